"""Test-session reporting: the backend suite's pass count and excluded cases now passing."""


def pytest_terminal_summary(terminalreporter):
    stats = terminalreporter.stats
    passed = [r for r in stats.get("passed", []) if "test_backend_case" in r.nodeid]
    xpassed = [r for r in stats.get("xpassed", []) if "test_backend_case" in r.nodeid]
    failed = [r for r in stats.get("failed", []) if "test_backend_case" in r.nodeid]
    xfailed = [r for r in stats.get("xfailed", []) if "test_backend_case" in r.nodeid]
    total = len(passed) + len(xpassed) + len(failed) + len(xfailed)
    if not total:
        return
    terminalreporter.section("ONNX backend suite")
    terminalreporter.write_line(
        f"backend cases: {len(passed) + len(xpassed)} of {total} pass "
        f"({len(xfailed)} excluded with reasons in tests/backend/excluded.txt or, where the "
        "expected output depends on an installed package, tests/backend/harness.py)")
    if xpassed:
        names = ", ".join(r.nodeid.split("[", 1)[-1].rstrip("]") for r in xpassed)
        terminalreporter.write_line(
            f"excluded but passing now ({len(xpassed)}), remove from excluded.txt: {names}")
