"""Drives a RouterOS API server with librouteros, a client lastmile did not write.

Usage: librouteros_client.py HOST PORT USER PASSWORD

Logs in, reads the identity and the resource, adds, prints (with a query), changes and
removes a pool, adds a PPP secret, and asks for something that does not exist; prints one
JSON object with what it saw. Exits non-zero on anything a router would not do.
"""

import json
import sys

from librouteros import connect
from librouteros.exceptions import TrapError
from librouteros.query import Key


def main() -> None:
    host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    api = connect(host=host, port=port, username=user, password=password, timeout=10)
    seen = {}
    seen["identity"] = [dict(r) for r in api("/system/identity/print")]
    seen["version"] = [r.get("version") for r in api("/system/resource/print")]

    pools = api.path("ip", "pool")
    added = pools.add(name="outside-pool", ranges="10.77.0.2-10.77.0.254")
    seen["added_id"] = added
    name = Key("name")
    seen["found"] = [dict(r) for r in pools.select(".id", "name", "ranges").where(name == "outside-pool")]
    pools.update(**{".id": added, "ranges": "10.77.0.0/24"})
    seen["after_update"] = [dict(r) for r in pools.select("name", "ranges").where(name == "outside-pool")]

    secrets = api.path("ppp", "secret")
    secrets.add(name="outside-user", password="outside-pw", service="pppoe", profile="default")
    seen["secrets"] = [
        {"name": r["name"], "service": r["service"], "disabled": r["disabled"]}
        for r in secrets.select("name", "service", "disabled").where(Key("name") == "outside-user")
    ]

    pools.remove(added)
    seen["after_remove"] = [dict(r) for r in pools.select("name").where(name == "outside-pool")]

    try:
        tuple(api("/no/such/menu/print"))
        seen["trap"] = None
    except TrapError as error:
        seen["trap"] = str(error)
    api.close()
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
