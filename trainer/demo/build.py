"""Builds the product's demo data: a help centre for a fictional smart-home brand, "Lumen".

Each topic is one help article and the ways customers ask for it: five questions train, two go to
validation (early stopping watches them) and two to a held-out test set that no decision uses, so both
ask about the same articles in words training has not seen. As in a real help centre, many questions
name the product's things ("hub", "door sensor battery", "refund", "password") and paraphrase the rest;
others share no word with their article. A third of the topics are in Simplified Chinese. Several
articles have a look-alike twin in TWINS (same words, another answer): they make the search hard before
training, and each topic's training rows carry its twin as a negative, so fine-tuning has something to
learn, for the dense and ColBERT heads (meaning) and the sparse head (which shared words matter).
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
]

TOPICS_ZH = [
    ("重置智能网关：按住背面的小孔按钮十秒，直到指示灯闪橙色，然后在应用中重新添加。",
     ["网关怎么恢复出厂设置", "网关卡住了想重新配置", "清除网关所有数据", "网关重置按钮在哪", "网关指示灯闪橙色"],
     ["怎样把网关重置后重新配网", "按哪个按钮可以重置网关"],
     ["把网关恢复成刚买来的样子", "重置网关要按多久"]),
    ("灯泡调暗时闪烁：老式墙壁调光开关会导致闪烁，请把开关调到最亮，改用应用调节亮度。",
     ["灯调暗以后一直闪", "用墙上的调光器灯会抖动", "低亮度时灯泡频闪", "灯泡调暗就闪烁", "调光开关调到最亮"],
     ["墙壁开关调暗后灯光不稳定", "老式调光开关让灯泡闪烁"],
     ["调光开关调低以后灯一闪一闪", "灯泡闪烁怎么调亮度"]),
    ("退款政策：未拆封的商品三十天内可全额退款，已拆封的商品如有故障可以换货。",
     ["买了不想要可以退钱吗", "没拆封能退货吗", "退款规则是什么", "已拆封的商品能退款吗", "拆封商品换货"],
     ["三十天内怎么退", "商品退款政策"],
     ["没用过的东西怎么退款", "拆封后坏了能换货吗"]),
    ("保修期为购买之日起两年，涵盖制造缺陷，请保留购物凭证。",
     ["保修多长时间", "灯泡坏了还在保修期吗", "质保几年", "保修需要购物凭证吗", "保修两年吗"],
     ["哪些故障可以免费维修", "保修期是几年"],
     ["保修包括哪些问题多久", "制造缺陷保修吗"]),
    ("网络要求：网关需要 2.4GHz 无线网络和 WPA2 加密，不支持仅 5GHz 的网络。",
     ["网关连不上无线网", "支持5G频段的wifi吗", "路由器需要什么设置", "网关需要什么网络", "网关支持WPA2吗"],
     ["网关用哪个频段上网", "5GHz网络能用吗"],
     ["网关要连哪种无线网络", "路由器加密方式有要求吗"]),
    ("定时开关灯：新建一个自动化，选择时间或日出日落，再选择要开或关的灯。",
     ["日落时自动开灯", "设置晚上十一点关灯", "怎么让灯定时打开", "新建自动化定时关灯", "自动化定时开灯"],
     ["每天固定时间开关灯", "日出时自动关灯"],
     ["让灯在日落时自己打开", "定时开关灯怎么设置"]),
    ("离家模式会在晚上随机开关灯，让家里看起来有人，适合外出旅行时使用。",
     ["出门旅游时让家里像有人", "随机开关灯防小偷", "度假模式怎么用", "离家模式是什么", "离家模式随机开关灯"],
     ["外出时模拟有人在家", "旅行时打开离家模式"],
     ["旅行时让灯随机亮起来", "晚上随机开灯的功能"]),
    ("家庭共享：在设置的家庭成员里通过邮箱邀请家人，访客可以控制灯但不能修改自动化。",
     ["让家人也能用应用", "添加其他用户", "邀请老婆一起控制灯", "通过邮箱邀请家庭成员", "访客控制灯"],
     ["给孩子开通权限", "访客能修改自动化吗"],
     ["怎么让家里其他人也能控制灯", "邀请家人共享"]),
    ("漏水传感器放在洗衣机或热水器附近的地面上，遇水会鸣叫并推送提醒。",
     ["地上有水时报警", "水管漏水怎么提醒我", "漏水探测器放在哪里", "漏水传感器怎么用", "漏水传感器鸣叫"],
     ["洗衣机漏水能通知吗", "漏水时传感器会响吗"],
     ["热水器旁边漏水会报警吗", "漏水传感器推送提醒"]),
    ("忘记密码：在登录页点击忘记密码，按照邮件中的链接设置新密码。",
     ["密码忘了怎么办", "登录不了应用", "怎么修改账号密码", "忘记密码邮件收不到", "忘记密码链接"],
     ["重置登录密码", "怎么设置新密码"],
     ["登录密码想不起来了", "忘记密码的链接在哪"]),
    ("断网控制：家里没有外网时，只要手机和网关在同一局域网，仍然可以控制灯。",
     ["没网了还能开灯吗", "断网能用吗", "宽带坏了怎么控制灯", "没有外网能控制灯吗", "局域网断网控制灯"],
     ["不联网本地控制", "断网时手机怎么控制灯"],
     ["没有网络的时候怎么开灯", "局域网控制灯"]),
    ("智能插座过载保护：电流超过十安时自动断电并亮红灯，拔掉电器后按按钮恢复。",
     ["插座亮红灯不工作了", "插电暖器插座就断电", "大功率电器插座跳闸", "智能插座过载怎么恢复", "插座超过十安断电"],
     ["用电水壶后插座变红", "插座自动断电了"],
     ["插座红灯亮了断电了", "智能插座最大电流多少"]),
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
    "灯泡采用 E27 螺口，小螺口灯座需要另购 E14 转接头。",
    "客服热线工作日上午九点至下午六点在线，在线客服通常一小时内回复。",
    "停电后灯泡会恢复到断电前的状态，可以在设置中改为总是开启或总是关闭。",
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
    24: "重启网关不会清除设置：拔掉电源十秒后再插上，指示灯变白即可继续使用。",
    25: "灯泡调光范围：在应用中可以把亮度调到百分之一，最低亮度可以在设置中修改。",
    26: "商品三十天后出现故障按保修处理，请联系客服并提供订单号。",
    27: "延长保修：购买后六十天内注册产品，可免费再延长一年保修。",
    28: "访客网络：网关无法连接会隔离设备的访客无线网络，请连接家里的主网络。",
    29: "日出唤醒：起床自动化会在闹钟前三十分钟慢慢调亮卧室的灯。",
    30: "离家提醒：开启离家模式后，门窗传感器被打开时会推送通知。",
    31: "共享单个房间：在设置的家庭成员里可以只给访客开放一个房间。",
    32: "漏水传感器电池：纽扣电池可用约两年，电量低于百分之十五时应用会提醒。",
    33: "修改账号邮箱：在设置的账号中更换邮箱，并点击发送到新邮箱的确认链接。",
    34: "外网断开：网关指示灯变红时请重启路由器，断网期间自动化仍在网关上运行。",
    35: "智能插座定时：在自动化中设置插座在固定时间通电或断电。",
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
    topics = TOPICS + TOPICS_ZH
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
