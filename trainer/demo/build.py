"""Builds the product's demo data: a help centre for a fictional smart-home brand, "Lumen".

Each topic is one help article and the ways customers ask for it: five questions train, two go to
validation (early stopping watches them) and two to a held-out test set that no decision uses, so both
ask about the same articles in words training has not seen. As in a real help centre, many questions
name the product's things ("hub", "door sensor battery", "refund", "password") and paraphrase the rest;
others share no word with their article. Every article has a look-alike twin in TWINS (same words,
another answer): they make the search hard before training, and each topic's training rows carry its twin
as a negative, so fine-tuning has something to learn, for the dense and ColBERT heads (meaning) and the
sparse head (which shared words matter).
The demo is English only, in both UI languages: the product's default model (the embedded all-MiniLM-L6-v2)
has an English vocabulary and read 28 % of an earlier, partly Chinese demo's tokens as [UNK] (issue 36). Chinese
data needs a model that reads Chinese (BAAI/bge-m3); the Data and Configure pages' [UNK] check says so.
Run this file to rewrite train.jsonl, eval/ and test/ beside it (deterministic).
"""
from __future__ import annotations

import json
import random
from pathlib import Path

# (article, training questions, validation questions, test questions)
TOPICS = [
    ("Resetting the Lumen Hub: hold the pin button on the back for ten seconds until the ring blinks orange, then set it up again in the app.",
     ["how do I factory reset my hub", "hub is stuck, want to start over from scratch", "erase all settings on the hub", "which button on the back wipes the hub", "the ring on my hub blinks orange after I held the button"],
     ["wipe the base station and pair it again", "reset the hub to how it came out of the box"],
     ["start the hub again from zero", "how long do I press the pin button to wipe everything"]),
    ("Bulb flickers when dimmed: older wall dimmers send a chopped signal; set the switch to full brightness and dim from the app instead.",
     ["my light flickers at low brightness", "lamp keeps flashing when I turn the dimmer down", "strobe effect on the bulb with a wall dimmer", "bulb flickers with my old dimmer switch", "older dimmer makes the bulb flicker"],
     ["light shimmers when I lower it with the switch on the wall", "why does the bulb flicker when I dim it"],
     ["lamp flashes on the lowest setting of the wall knob", "flickering at low brightness with an older dimmer"]),
    ("Adding a bulb to a room: open Rooms, choose the room, tap Add device and pick the bulb from the list of nearby devices.",
     ["put a new bulb in the kitchen group", "assign lamp to bedroom in app", "how to move a light into a room", "add a bulb to the living room", "tap add device to put a bulb in a room"],
     ["group a new light with the others in the living room", "which screen do I use to add a device to a room"],
     ["which screen do I use to place a lamp in the bedroom", "put the new bulb into a room in the app"]),
    ("Battery life of the door sensor: the coin cell lasts about eighteen months; the app warns you when it falls below fifteen percent.",
     ["how long does the door sensor battery last", "when should I change the contact sensor coin cell", "sensor battery duration", "how often does the door sensor need a new battery", "door sensor coin cell replacement"],
     ["how many months before the window sensor needs a new cell", "door sensor coin cell running low, how long do they last"],
     ["coin battery lifetime in the contact sensor", "when will the app tell me the door sensor battery is low"]),
    ("Wi-Fi requirements: the hub needs a 2.4 GHz network with WPA2; 5 GHz-only networks and captive portals are not supported.",
     ["hub cannot find my wifi", "does it work on 5ghz", "which wireless network does the hub need", "hub won't join my 5 GHz network", "wifi network type the hub supports"],
     ["router band the base station connects to", "what wifi network does the hub support"],
     ["what kind of wifi does the base station support", "can the hub use a hotel network with a login page"]),
    ("Scheduling lights: create a routine, choose a time or sunrise and sunset, and pick which lights turn on or off.",
     ["turn lights on automatically at sunset", "set a timer for the porch lamp", "make lights switch off at 11pm every night", "schedule lights to turn off at a set time", "lights on at sunrise with a routine"],
     ["automatic on and off at fixed hours", "routine to turn the lights on at sunset"],
     ["lights should come on by themselves at dusk", "create a schedule so the lights turn on in the morning"]),
    ("Firmware updates install overnight between 2 and 4 am; you can start one now from Settings, Device, Update.",
     ["how to update the bulb software", "when do updates happen", "force a firmware upgrade", "firmware update schedule", "firmware update at night"],
     ["install the newest version on my devices right away", "can I start a firmware update now"],
     ["get the latest software onto my lamps now", "why did my devices update overnight"]),
    ("Voice assistants: link your Lumen account in the assistant's app under smart home skills, then ask it to discover devices.",
     ["control lights with my speaker by voice", "connect to alexa or google", "talk to the lamp through a smart speaker", "link my Lumen account to a voice assistant", "voice assistant skill setup"],
     ["link the account so the voice helper sees my lights", "my voice assistant can't discover the lights"],
     ["hook the lights up to my smart speaker", "enable the smart home skill for Lumen"]),
    ("Refunds: unopened products can be returned within 30 days for a full refund; opened products are exchanged if faulty.",
     ["can I get my money back", "return policy for unopened box", "send back a product I don't want", "how do refunds work for opened products", "refund for an unopened product after two weeks"],
     ["refund rules after buying", "full refund within 30 days?"],
     ["money back for an unopened order", "can I return an opened bulb for a refund"]),
    ("Warranty covers manufacturing faults for two years from the date of purchase; keep your receipt as proof.",
     ["how long is the guarantee", "is a broken bulb covered after one year", "warranty period", "do I need the receipt for a warranty claim", "warranty on manufacturing faults"],
     ["what defects are repaired for free and for how long", "how many years of warranty do I get"],
     ["are manufacturing defects covered and for how many years", "proof of purchase for warranty repairs"]),
    ("Motion sensor sensitivity: in the sensor's settings choose low, medium or high; pets under 20 kg are ignored on low.",
     ["my cat keeps triggering the motion sensor", "reduce false alarms from movement detector", "adjust how sensitive the motion detector is", "motion sensor sensitivity setting", "set the motion sensor to low so pets are ignored"],
     ["dog sets off the sensor at night", "change the motion sensor to low sensitivity"],
     ["stop pets from setting off the movement detector", "motion sensor goes off too easily"]),
    ("Colour scenes: tap a scene to set every light in a room to saved colours; long-press to edit or save the current colours.",
     ["save my favourite colours", "create a mood preset for the lights", "store the current light colours as a preset", "edit a colour scene", "long-press a scene to save colours"],
     ["one tap to set all lamps to my chosen colours", "save the current colours as a scene"],
     ["one button for my favourite colour setup", "how do I change the colours in a saved scene"]),
    ("Away mode makes lights turn on and off at random in the evening so the home looks lived-in while you travel.",
     ["make the house look occupied on holiday", "random lighting while I'm away", "vacation mode for lights", "what does away mode do", "away mode while I travel"],
     ["deter burglars while travelling", "turn on away mode before a trip"],
     ["pretend someone is home while I travel", "lights on at random while I'm away on a trip"]),
    ("Sharing access: invite family members by e-mail from Settings, Household; guests can control lights but not change routines.",
     ["let my partner use the app", "add another user to my home", "give my kids control of the lights", "invite family to the household", "guests in my household"],
     ["invite someone to the household", "can a guest change my routines"],
     ["let my flatmate switch the lights too", "invite a family member by e-mail"]),
    ("Energy report: the monthly report shows hours on and estimated kilowatt-hours per light, based on each bulb's rated wattage.",
     ["how much electricity do my lights use", "see power consumption", "monthly energy usage per bulb", "where is the energy report", "energy report for each light"],
     ["estimate the kWh of my lamps", "energy used by each light this month"],
     ["how many kilowatt-hours do my bulbs burn each month", "monthly report of energy per light"]),
    ("Offline control: if the internet is down, the app still controls lights on the same home network through the hub.",
     ["internet is out can I still switch lights", "does it work without internet", "control the lamps when the broadband is down", "app control on the home network without internet", "no internet but same home network"],
     ["local control with no cloud connection", "internet down, will the app still control my lights"],
     ["switch the lamps when the router has no internet", "lights through the hub when the internet is down"]),
    ("Smart plug overload: the plug cuts power above 10 amps and its light turns red; unplug the appliance and press the button to reset.",
     ["plug turned red and stopped working", "socket shut off with heater", "outlet trips with a high power device", "smart plug keeps cutting power", "smart plug overload reset"],
     ["plug light is red after using the kettle", "how to reset the smart plug after an overload"],
     ["the plug switched itself off and glows red", "which appliances are too much for the smart plug"]),
    ("Leak sensor: place it on the floor near the washing machine or boiler; it sounds a buzzer and sends an alert when it gets wet.",
     ["alarm for water on the floor", "detect a flood under the sink", "where to put the water detector", "leak sensor placement", "leak sensor buzzer"],
     ["get notified if the dishwasher leaks", "does the leak sensor make a sound"],
     ["warning when water reaches the floor", "leak sensor next to the washing machine"]),
    ("Changing the account password: sign out, tap Forgot password on the login screen and follow the link we e-mail you.",
     ["I forgot my password", "can't log into the app", "reset login credentials", "forgot password link not arriving", "forgot password on the login screen"],
     ["change the password for my account", "password reset e-mail"],
     ["I cannot remember my login", "how do I set a new password"]),
    ("Deleting your account removes your homes, routines and history within 30 days; devices must be reset before a new owner uses them.",
     ["close my account permanently", "remove all my data", "delete profile and personal information", "delete my account and history", "delete my Lumen account"],
     ["sell the lamps and erase my account", "how long until a deleted account is gone"],
     ["get rid of my account and everything in it", "reset devices before giving them to a new owner"]),
    ("Outdoor use: the Garden spotlight is rated IP65 and can stay outside all year; indoor bulbs must not be used outdoors.",
     ["can I put the lights in the garden", "are the bulbs waterproof", "rain resistance of the outdoor spot", "is the spotlight rated for outdoor use", "outdoor spotlight for the garden"],
     ["use a bulb on the balcony in winter", "garden spotlight in the rain"],
     ["can the spotlight stay out in the rain all year", "indoor bulbs outside, is that ok"]),
    ("Hub placement: put the hub in a central spot, off the floor and away from metal cabinets and microwaves to keep the signal strong.",
     ["where should I put the base station", "devices far from hub keep dropping", "improve range of the hub", "does the microwave affect the hub signal", "hub away from the microwave"],
     ["weak signal in the upstairs bedroom", "where to place the hub for a strong signal"],
     ["best spot in the house for the hub", "hub inside a metal cabinet, is that bad"]),
    ("Adding a switch remote: press and hold both buttons on the remote for five seconds near the bulb until it blinks twice.",
     ["pair the wireless remote", "connect the clicker to a lamp", "link a dimmer switch to a bulb", "add a remote to a bulb", "remote blinks twice when paired"],
     ["make the handheld remote control a light", "which buttons pair the remote"],
     ["how to pair the little remote with a bulb", "remote won't connect to my bulb"]),
    ("Notifications: choose which alerts you get in Settings, Notifications; critical alerts such as leaks always come through.",
     ["too many alerts on my phone", "turn off push messages", "stop the app from pinging me", "choose which notifications I get", "critical alerts like leaks"],
     ["mute notifications except important ones", "can I turn off leak alerts"],
     ["fewer pings from the app", "notification settings for alerts"]),
    ("Cutting the light strip: cut only along the scissor marks every 10 cm; the part you cut off cannot be reconnected and is no longer under warranty.",
     ["can I shorten the LED strip", "where is it safe to cut the light strip", "trim the strip light to fit under my cabinet", "scissor marks on the light strip", "light strip too long for the shelf"],
     ["my LED tape is too long for the shelf, how do I make it fit", "can the leftover bit of strip be joined back on"],
     ["the strip is longer than my desk, what now", "where along the tape may I snip"]),
    ("White tones: drag the slider under the colour wheel from warm white (2700 K) to cool daylight (6500 K); cool light suits kitchens and desks.",
     ["make the light less yellow", "switch the bulb to cool white", "change the colour temperature", "daylight setting for my desk lamp", "warm white or cool white"],
     ["the kitchen light feels too cosy and yellow", "I need crisper light to read by"],
     ["the lamp is too golden for my home office", "where is the kelvin slider"]),
    ("Delivery: orders ship within two working days and arrive in three to five; the tracking link is in your shipping confirmation e-mail.",
     ["where is my order", "when will my package arrive", "track my parcel", "how long does shipping take", "tracking link for my order"],
     ["my bulbs haven't come yet", "how soon will the parcel be at my door"],
     ["has my order been sent", "lost the mail that says where my package is"]),
    ("Arriving home: an arrival routine turns lights on when your phone comes within 200 metres of home; allow the app location access 'Always'.",
     ["lights on when I get home", "turn the porch light on as I arrive", "use my phone's location to switch lights", "geofence routine", "arrival routine not working"],
     ["welcome lights as I pull into the driveway", "why does the app want to know where I am all the time"],
     ["can the lights switch on when I come back from work", "how close must I be before the lamps come on"]),
    ("Two-step verification: turn it on in Settings, Account, Security; each new sign-in then asks for a code we send by text message.",
     ["add extra security to my login", "enable two-factor authentication", "get a code by SMS when signing in", "turn on two-step verification", "secure my account with a text code"],
     ["protect my account if someone learns the password", "the app texts me a number every time I log in on a new phone"],
     ["2FA for the Lumen app", "stop strangers getting in even with my password"]),
    ("Device shows 'Not responding': the bulb has no power; leave the wall switch on, because a switched-off bulb cannot be controlled from the app.",
     ["app says my bulb is not responding", "light shows offline in the app", "bulb unreachable after I used the wall switch", "why is my lamp greyed out", "not responding message on a light"],
     ["the lamp can't be reached since someone flicked the switch", "the app can't see my lamp any more"],
     ["tapping the light in the app does nothing", "the app lost my lamp after the switch was turned off"]),
    ("Doorbell recordings: with Lumen Plus, video clips from the doorbell are kept for 30 days; without a plan you can only watch live.",
     ["how long are doorbell videos saved", "watch yesterday's doorbell clips", "doorbell recording history", "can I see who rang earlier", "do I need a plan to record video"],
     ["footage from the front door camera last week", "do I have to pay to look back at visitors"],
     ["who came to the door while I was at work", "how far back can I watch the front door"]),
    ("New router or Wi-Fi password: open Settings, Hub, Wi-Fi network and enter the new details; your devices stay paired and keep their rooms.",
     ["I changed my wifi password and the hub went offline", "got a new router", "connect the hub to a different network", "update the wifi details on the hub", "new internet provider, hub setup"],
     ["switched broadband company, how do I move the base station over", "do I have to pair everything again after changing router"],
     ["the hub lost connection since I renamed my network", "my internet provider sent a new box, what does the hub need"]),
    ("Child lock: turn on Button lock in the smart plug's settings so pressing the plug's button does nothing; the app and routines still switch it.",
     ["stop my kids turning the plug on and off", "disable the button on the smart plug", "child lock for the socket", "button lock on the plug", "children keep pressing the plug"],
     ["toddler keeps switching off the fridge plug", "make the plug ignore its own button"],
     ["kids keep clicking the socket, can I stop that", "only the phone should be able to switch the plug"]),
    ("Cancelling Lumen Plus: open Settings, Subscription and tap Cancel; the plan stays active until the end of the month you paid for.",
     ["stop paying for the subscription", "cancel Lumen Plus", "end my monthly plan", "unsubscribe from the premium plan", "subscription cancel button"],
     ["I don't want to be charged every month any more", "if I stop the plan today do I lose it straight away"],
     ["how to quit the paid membership", "get out of the paid plan"]),
    ("Climate sensor: it measures temperature and humidity every five minutes; open the sensor to see a chart of the last 30 days.",
     ["how warm was it in the bedroom last night", "humidity history", "temperature graph for the sensor", "see past readings of the climate sensor", "how often does the climate sensor measure"],
     ["check how damp the bathroom got this week", "chart of the room temperature"],
     ["was the nursery cold overnight", "how humid has the cellar been lately"]),
    ("Closed lampshades: bulbs get hot inside sealed glass fittings and may switch off to cool down; use open fittings or the Lumen Enclosed bulb.",
     ["bulb turns off by itself in my glass ceiling light", "can I use the bulb in an enclosed fixture", "lamp goes off after an hour in a closed shade", "bulb overheating", "sealed light fitting"],
     ["light keeps cutting out in the bathroom dome", "bulb inside a frosted globe keeps going dark"],
     ["my ceiling bulb switches off when it gets hot", "the light in my sealed porch lantern goes out after a while"]),

]

# Articles nobody asks about in the demo: they make the search harder, as real help centres are.
DISTRACTORS = [
    "Lumen bulbs use the E27 screw base; an E14 adapter is sold separately for smaller lamp holders.",
    "The hub's status ring is white when connected, blue during pairing and red when it has no internet.",
    "Our support line is open on weekdays from 9 am to 6 pm; chat replies usually come within an hour.",
    "Bulbs remember their last state after a power cut; change this to always on or always off in Settings.",
    "Gift cards never expire and can be used for any product in the online store.",
    "Lumen devices follow the Zigbee 3.0 standard and work with most third-party Zigbee hubs.",
    "Packaging is made from recycled cardboard and can go in your paper recycling.",
    "The Lumen app runs on iOS 15 and Android 10 or later; tablets are supported in landscape mode.",
    "Students get 10 percent off in the online store with a valid student e-mail address.",
    "Spare parts such as wall plates and mounting clips can be ordered from support.",
]

# Look-alike articles: topic index -> a passage that shares its words but answers another question.
TWINS = {
    0: "Restarting the Lumen Hub keeps your settings: unplug it for ten seconds and plug it back in; the ring turns white when it is ready.",
    1: "Bulb hums when dimmed: a faint buzz from older wall dimmers is harmless; a Lumen wall switch removes it.",
    2: "Removing a bulb from a room: open Rooms, choose the room, long-press the bulb and tap Remove from room.",
    3: "Battery life of the motion sensor: its two AAA batteries last about a year; the app warns you below fifteen percent.",
    4: "Guest Wi-Fi: the hub cannot join a guest network that isolates devices; connect it to your main network instead.",
    5: "Sunrise alarm: a wake-up routine brightens the bedroom lights slowly over thirty minutes before your alarm.",
    6: "Firmware update failed: keep the device within five metres of the hub and retry from Settings, Device, Update.",
    7: "Voice assistant names: rename a light in the Lumen app, then ask the assistant to discover devices again to use the new name.",
    8: "Faulty products after 30 days are handled under warranty: contact support with your order number for a repair.",
    9: "Extended warranty: register your product within 60 days to add a third year of cover at no cost.",
    10: "Motion sensor lights: choose which lights turn on when the motion sensor sees movement and how long they stay on.",
    11: "Copying a colour scene: a scene saved in one room can be copied to another room from the scene's menu.",
    12: "Away mode alerts: while away mode is on, the door sensor sends you a notification whenever a door opens.",
    13: "Sharing one room: give a guest access to a single room from Settings, Household, Rooms.",
    14: "Energy saving: lower the brightness by 20 percent and let routines switch off lights in empty rooms to cut your bill.",
    15: "Cloud connection lost: if the hub's ring is red, restart your router; routines keep running on the hub while the internet is down.",
    16: "Smart plug schedule: the plug switches an appliance on and off at set times from the Routines tab.",
    17: "Leak sensor battery: its coin cell lasts about two years; test the sensor by touching both contacts with a wet finger.",
    18: "Changing the account e-mail address: open Settings, Account, E-mail and confirm the link we send to the new address.",
    19: "Removing a home: delete one home from your account in Settings, Homes; its devices must be reset before they are added again.",
    20: "Outdoor smart plug: the Garden plug is rated IP44 and powers lights or pumps outside; keep it off the ground.",
    21: "Hub range: every mains-powered bulb and plug repeats the signal, so a plug halfway between extends the hub's range.",
    22: "Remote battery: the switch remote takes one CR2032 coin cell; open the back with a coin to change it.",
    23: "Notification sound: pick the sound for critical alerts in your phone's settings; the app cannot change it.",
    24: "Extending the light strip: join up to two 1 m extensions with the clip connector; longer strips need a second power supply.",
    25: "Night light: a dim, warm glow at 1 percent brightness for hallways; turn it on from the light's menu or with a routine after midnight.",
    26: "Changing the delivery address: you can edit it under Orders until the parcel ships; after that, contact the courier.",
    27: "Leaving home: a departure routine switches every light off when the last person's phone leaves the area around home.",
    28: "Signed in elsewhere: see every phone signed in to your account in Settings, Account, Security and sign out the ones you do not know.",
    29: "Device shows 'Not found' while adding it: the bulb is still paired to another hub; reset it by switching it off and on five times.",
    30: "Doorbell chime: choose the chime's tune and volume on the doorbell's page; the indoor chime must be within 20 metres of the doorbell.",
    31: "Moving house: take the hub and devices with you and add your new address in Settings, Homes so sunrise and sunset times are right.",
    32: "Plug indicator light: turn off the smart plug's small status light in its settings if it bothers you at night; the button still works.",
    33: "Lumen Plus price: the plan costs 3 euros a month or 30 a year, with a free first month; switch between monthly and yearly in Settings, Subscription.",
    34: "Climate sensor alerts: set a high and a low temperature in the sensor's settings and the app warns you when the room goes outside them.",
    35: "Bathroom use: bulbs may go in bathroom fittings away from the shower; do not use them where water can splash on them.",
}

NEGATIVES = 7
SEED = 20261128


def _write_beir(folder: Path, asks: list[list[str]], corpus: list[str]) -> None:
    """asks[t]: the questions whose answer is corpus[t]."""
    folder.mkdir(parents=True, exist_ok=True)
    pairs = [(ask, t) for t, topic_asks in enumerate(asks) for ask in topic_asks]
    _write_jsonl(folder / "queries.jsonl", [{"_id": f"q{i}", "text": ask} for i, (ask, _) in enumerate(pairs)])
    _write_jsonl(folder / "corpus.jsonl", [{"_id": f"d{i}", "text": p} for i, p in enumerate(corpus)])
    with open(folder / "qrels.tsv", "w", encoding="utf-8") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        f.writelines(f"q{i}\td{t}\t1\n" for i, (_, t) in enumerate(pairs))


def build(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED)
    topics = TOPICS
    passages = [p for p, *_ in topics]
    corpus = passages + list(TWINS.values()) + DISTRACTORS
    asked = [a for _, train, val, test in topics for a in train + val + test]
    assert len(set(asked)) == len(asked), "a question appears twice"
    train = []
    for t, (passage, asks, _, _) in enumerate(topics):
        others = [p for p in corpus if p != passage and p != TWINS.get(t)]
        for ask in asks:
            twin = [TWINS[t]] if t in TWINS else []
            train.append({"query": ask, "pos": [passage], "neg": twin + rng.sample(others, NEGATIVES - len(twin))})
    rng.shuffle(train)
    _write_jsonl(out_dir / "train.jsonl", train)
    _write_beir(out_dir / "eval", [val for *_, val, _ in topics], corpus)
    _write_beir(out_dir / "test", [test for *_, test in topics], corpus)


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


if __name__ == "__main__":
    build(Path(__file__).parent)
