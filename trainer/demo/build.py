"""Builds the product's demo data: a help centre for a fictional smart-home brand, "Lumen".

Each topic is one help article and several ways a customer might ask for it; three questions go
to training, the fourth to validation (early stopping watches it) and a fifth, in TEST_ASKS, to a
held-out test set that no decision uses, so both ask about the same articles in words the model has
not seen. A third of the topics are in Simplified Chinese. Several articles have a look-alike twin
in TWINS (same words, another answer): they make the search hard before training, and each topic's
training rows carry its twin as a negative, so fine-tuning has something to learn. Run this file
to rewrite train.jsonl, eval/ and test/ beside it (deterministic).
"""
from __future__ import annotations

import json
import random
from pathlib import Path

TOPICS = [
    ("Resetting the Lumen Hub: hold the pin button on the back for ten seconds until the ring blinks orange, then set it up again in the app.",
     ["how do I factory reset my hub", "hub is stuck, want to start over from scratch", "erase all settings on the hub", "wipe the base station and pair it again"]),
    ("Bulb flickers when dimmed: older wall dimmers send a chopped signal; set the switch to full brightness and dim from the app instead.",
     ["my light flickers at low brightness", "lamp keeps flashing when I turn the dimmer down", "strobe effect on the bulb with a wall dimmer", "light shimmers when I lower it with the switch on the wall"]),
    ("Adding a bulb to a room: open Rooms, choose the room, tap Add device and pick the bulb from the list of nearby devices.",
     ["put a new bulb in the kitchen group", "assign lamp to bedroom in app", "how to move a light into a room", "group a new light with the others in the living room"]),
    ("Battery life of the door sensor: the coin cell lasts about eighteen months; the app warns you when it falls below fifteen percent.",
     ["how long does the door sensor battery last", "when should I change the contact sensor coin cell", "sensor battery duration", "how many months before the window sensor needs a new cell"]),
    ("Wi-Fi requirements: the hub needs a 2.4 GHz network with WPA2; 5 GHz-only networks and captive portals are not supported.",
     ["hub cannot find my wifi", "does it work on 5ghz", "which wireless network does the hub need", "router band the base station connects to"]),
    ("Scheduling lights: create a routine, choose a time or sunrise and sunset, and pick which lights turn on or off.",
     ["turn lights on automatically at sunset", "set a timer for the porch lamp", "make lights switch off at 11pm every night", "automatic on and off at fixed hours"]),
    ("Firmware updates install overnight between 2 and 4 am; you can start one now from Settings, Device, Update.",
     ["how to update the bulb software", "when do updates happen", "force a firmware upgrade", "install the newest version on my devices right away"]),
    ("Voice assistants: link your Lumen account in the assistant's app under smart home skills, then ask it to discover devices.",
     ["control lights with my speaker by voice", "connect to alexa or google", "talk to the lamp through a smart speaker", "link the account so the voice helper sees my lights"]),
    ("Refunds: unopened products can be returned within 30 days for a full refund; opened products are exchanged if faulty.",
     ["can I get my money back", "return policy for unopened box", "send back a product I don't want", "refund rules after buying"]),
    ("Warranty covers manufacturing faults for two years from the date of purchase; keep your receipt as proof.",
     ["how long is the guarantee", "is a broken bulb covered after one year", "warranty period", "what defects are repaired for free and for how long"]),
    ("Motion sensor sensitivity: in the sensor's settings choose low, medium or high; pets under 20 kg are ignored on low.",
     ["my cat keeps triggering the motion sensor", "reduce false alarms from movement detector", "adjust how sensitive the motion detector is", "dog sets off the sensor at night"]),
    ("Colour scenes: tap a scene to set every light in a room to saved colours; long-press to edit or save the current colours.",
     ["save my favourite colours", "create a mood preset for the lights", "store the current light colours as a preset", "one tap to set all lamps to my chosen colours"]),
    ("Away mode makes lights turn on and off at random in the evening so the home looks lived-in while you travel.",
     ["make the house look occupied on holiday", "random lighting while I'm away", "vacation mode for lights", "deter burglars while travelling"]),
    ("Sharing access: invite family members by e-mail from Settings, Household; guests can control lights but not change routines.",
     ["let my partner use the app", "add another user to my home", "give my kids control of the lights", "invite someone to the household"]),
    ("Energy report: the monthly report shows hours on and estimated kilowatt-hours per light, based on each bulb's rated wattage.",
     ["how much electricity do my lights use", "see power consumption", "monthly energy usage per bulb", "estimate the kWh of my lamps"]),
    ("Offline control: if the internet is down, the app still controls lights on the same home network through the hub.",
     ["internet is out can I still switch lights", "does it work without internet", "control the lamps when the broadband is down", "local control with no cloud connection"]),
    ("Smart plug overload: the plug cuts power above 10 amps and its light turns red; unplug the appliance and press the button to reset.",
     ["plug turned red and stopped working", "socket shut off with heater", "outlet trips with a high power device", "plug light is red after using the kettle"]),
    ("Leak sensor: place it on the floor near the washing machine or boiler; it sounds a buzzer and sends an alert when it gets wet.",
     ["alarm for water on the floor", "detect a flood under the sink", "where to put the water detector", "get notified if the dishwasher leaks"]),
    ("Changing the account password: sign out, tap Forgot password on the login screen and follow the link we e-mail you.",
     ["I forgot my password", "can't log into the app", "reset login credentials", "change the password for my account"]),
    ("Deleting your account removes your homes, routines and history within 30 days; devices must be reset before a new owner uses them.",
     ["close my account permanently", "remove all my data", "delete profile and personal information", "sell the lamps and erase my account"]),
    ("Outdoor use: the Garden spotlight is rated IP65 and can stay outside all year; indoor bulbs must not be used outdoors.",
     ["can I put the lights in the garden", "are the bulbs waterproof", "rain resistance of the outdoor spot", "use a bulb on the balcony in winter"]),
    ("Hub placement: put the hub in a central spot, off the floor and away from metal cabinets and microwaves to keep the signal strong.",
     ["where should I put the base station", "devices far from hub keep dropping", "improve range of the hub", "weak signal in the upstairs bedroom"]),
    ("Adding a switch remote: press and hold both buttons on the remote for five seconds near the bulb until it blinks twice.",
     ["pair the wireless remote", "connect the clicker to a lamp", "link a dimmer switch to a bulb", "make the handheld remote control a light"]),
    ("Notifications: choose which alerts you get in Settings, Notifications; critical alerts such as leaks always come through.",
     ["too many alerts on my phone", "turn off push messages", "stop the app from pinging me", "mute notifications except important ones"]),
]

TOPICS_ZH = [
    ("重置智能网关：按住背面的小孔按钮十秒，直到指示灯闪橙色，然后在应用中重新添加。",
     ["网关怎么恢复出厂设置", "网关卡住了想重新配置", "清除网关所有数据", "怎样把网关重置后重新配网"]),
    ("灯泡调暗时闪烁：老式墙壁调光开关会导致闪烁，请把开关调到最亮，改用应用调节亮度。",
     ["灯调暗以后一直闪", "用墙上的调光器灯会抖动", "低亮度时灯泡频闪", "墙壁开关调暗后灯光不稳定"]),
    ("退款政策：未拆封的商品三十天内可全额退款，已拆封的商品如有故障可以换货。",
     ["买了不想要可以退钱吗", "没拆封能退货吗", "退款规则是什么", "三十天内怎么退"]),
    ("保修期为购买之日起两年，涵盖制造缺陷，请保留购物凭证。",
     ["保修多长时间", "灯泡坏了还在保修期吗", "质保几年", "哪些故障可以免费维修"]),
    ("网络要求：网关需要 2.4GHz 无线网络和 WPA2 加密，不支持仅 5GHz 的网络。",
     ["网关连不上无线网", "支持5G频段的wifi吗", "路由器需要什么设置", "网关用哪个频段上网"]),
    ("定时开关灯：新建一个自动化，选择时间或日出日落，再选择要开或关的灯。",
     ["日落时自动开灯", "设置晚上十一点关灯", "怎么让灯定时打开", "每天固定时间开关灯"]),
    ("离家模式会在晚上随机开关灯，让家里看起来有人，适合外出旅行时使用。",
     ["出门旅游时让家里像有人", "随机开关灯防小偷", "度假模式怎么用", "外出时模拟有人在家"]),
    ("家庭共享：在设置的家庭成员里通过邮箱邀请家人，访客可以控制灯但不能修改自动化。",
     ["让家人也能用应用", "添加其他用户", "邀请老婆一起控制灯", "给孩子开通权限"]),
    ("漏水传感器放在洗衣机或热水器附近的地面上，遇水会鸣叫并推送提醒。",
     ["地上有水时报警", "水管漏水怎么提醒我", "漏水探测器放在哪里", "洗衣机漏水能通知吗"]),
    ("忘记密码：在登录页点击忘记密码，按照邮件中的链接设置新密码。",
     ["密码忘了怎么办", "登录不了应用", "怎么修改账号密码", "重置登录密码"]),
    ("断网控制：家里没有外网时，只要手机和网关在同一局域网，仍然可以控制灯。",
     ["没网了还能开灯吗", "断网能用吗", "宽带坏了怎么控制灯", "不联网本地控制"]),
    ("智能插座过载保护：电流超过十安时自动断电并亮红灯，拔掉电器后按按钮恢复。",
     ["插座亮红灯不工作了", "插电暖器插座就断电", "大功率电器插座跳闸", "用电水壶后插座变红"]),
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

# One more question per topic (same order as TOPICS + TOPICS_ZH), for the held-out test set.
TEST_ASKS = [
    "start the hub again from zero", "lamp flashes on the lowest setting of the wall knob",
    "which screen do I use to place a lamp in the bedroom", "coin battery lifetime in the contact sensor",
    "what kind of wifi does the base station support", "lights should come on by themselves at dusk",
    "get the latest software onto my lamps now", "hook the lights up to my smart speaker",
    "money back for an unopened order", "are manufacturing defects covered and for how many years",
    "stop pets from setting off the movement detector", "one button for my favourite colour setup",
    "pretend someone is home while I travel", "let my flatmate switch the lights too",
    "how many kilowatt-hours do my bulbs burn each month", "switch the lamps when the router has no internet",
    "the plug switched itself off and glows red", "warning when water reaches the floor",
    "I cannot remember my login", "get rid of my account and everything in it",
    "can the spotlight stay out in the rain all year", "best spot in the house for the hub",
    "how to pair the little remote with a bulb", "fewer pings from the app",
    "把网关恢复成刚买来的样子", "调光开关调低以后灯一闪一闪", "没用过的东西怎么退款", "保修包括哪些问题多久",
    "网关要连哪种无线网络", "让灯在日落时自己打开", "旅行时让灯随机亮起来", "怎么让家里其他人也能控制灯",
    "热水器旁边漏水会报警吗", "登录密码想不起来了", "没有网络的时候怎么开灯", "插座红灯亮了断电了",
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
    8: "Faulty products after 30 days are handled under warranty: contact support with your order number for a repair.",
    9: "Extended warranty: register your product within 60 days to add a third year of cover at no cost.",
    13: "Sharing one room: give a guest access to a single room from Settings, Household, Rooms.",
    18: "Changing the account e-mail address: open Settings, Account, E-mail and confirm the link we send to the new address.",
    16: "Smart plug schedule: the plug switches an appliance on and off at set times from the Routines tab.",
    24: "重启网关不会清除设置：拔掉电源十秒后再插上，指示灯变白即可继续使用。",
    26: "商品三十天后出现故障按保修处理，请联系客服并提供订单号。",
    28: "访客网络：网关无法连接会隔离设备的访客无线网络，请连接家里的主网络。",
    33: "修改账号邮箱：在设置的账号中更换邮箱，并点击发送到新邮箱的确认链接。",
}

NEGATIVES = 7
SEED = 20261128


def _write_beir(folder: Path, asks: list[str], corpus: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    _write_jsonl(folder / "queries.jsonl", [{"_id": f"q{t}", "text": ask} for t, ask in enumerate(asks)])
    _write_jsonl(folder / "corpus.jsonl", [{"_id": f"d{i}", "text": p} for i, p in enumerate(corpus)])
    with open(folder / "qrels.tsv", "w", encoding="utf-8") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        f.writelines(f"q{t}\td{t}\t1\n" for t in range(len(asks)))


def build(out_dir: Path) -> None:
    rng = random.Random(SEED)
    topics = TOPICS + TOPICS_ZH
    assert len(TEST_ASKS) == len(topics)
    passages = [p for p, _ in topics]
    corpus = passages + list(TWINS.values()) + DISTRACTORS
    train = []
    for t, (passage, asks) in enumerate(topics):
        others = [p for p in corpus if p != passage and p != TWINS.get(t)]
        for ask in asks[:-1]:
            twin = [TWINS[t]] if t in TWINS else []
            train.append({"query": ask, "pos": [passage], "neg": twin + rng.sample(others, NEGATIVES - len(twin))})
    rng.shuffle(train)
    _write_jsonl(out_dir / "train.jsonl", train)
    _write_beir(out_dir / "eval", [asks[-1] for _, asks in topics], corpus)
    _write_beir(out_dir / "test", TEST_ASKS, corpus)


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


if __name__ == "__main__":
    build(Path(__file__).parent)
