"""Capability codes the domain tests use, by what they stand for."""

CAP = {
    "fire": "FIRE_WATER_SUPPLY",
    "blankets": "IFV_BLANKETS",
    "defence_transport": "DEF_EVACUATION_TRANSPORT",
    "defence_specialist": "DEF_EOD",
    "police_me": "POLICE_ME",
    "police_specialist": "POLICE_ARREST_TEAM",
    "kmar": "KMAR_UNIT",
    "sis": "SIS",
    "btc": "BTC",
    "water_cannon": "JV_WATER_CANNON",
    "container": "JV_SURVEILLANCE_CONTAINER",
    "foreign_police": "FOREIGN_POLICE",
}
