from tests.adbpeer.fixtures import adb_key, adb_server, make_peer  # noqa: F401 - pytest fixtures
