"""The CLI's options come from one table per command (src/cli/opts.c): for every command and
subcommand, --help lists exactly the options the parser accepts, and the parser words its usage
errors alike (unknown option, missing value, an option of another subcommand, --db ''), exit 2.

Black-box: it runs the binary without a server. Every call that must not do anything gets extra
positional arguments, so that it stops at "unexpected argument" (exit 2) after the options were
parsed, and never opens a database or starts a server."""

import re
import subprocess

import pytest

from conftest import CLI_TIMEOUT, syncrun_bin

DB = ["workspace", "db", "json"]
CLIENT = ["url", "token"]
SERVE = ["db", "listen", "threads", "max-connections", "idle-timeout", "write-timeout", "rate-limit", "tls-cert",
         "tls-key", "trust-proxy", "metrics-public", "access-log", "prune-interval", "webhooks-allow-private",
         "webhooks-disable-after", "webhooks-retry-base", "webhooks-timeout", "webhooks-keep", "demo"]
CONN_EDIT = ["name", "source", "destination", "connector-type", "overlap", "retention-days", "retention-keep-last"]

# (the command's words, the options it accepts). Subcommands of a group share one --help.
COMMANDS = [
    (["init"], ["db", "name", "json"]),
    (["serve"], SERVE),
    (["workspace", "create"], ["db", "json"]),
    (["workspace", "retention"], ["days", "keep-last", "failure-days"] + DB),
    (["key", "create"], ["scope", "name", "oauth"] + DB),
    (["key", "list"], DB),
    (["key", "revoke"], DB),
    (["connection", "create"], CONN_EDIT + DB),
    (["connection", "list"], ["limit"] + DB),
    (["connection", "update"], CONN_EDIT + DB),
    (["connection", "rm"], DB),
    (["webhook", "add"], ["events", "connection", "allow-private"] + DB),
    (["webhook", "list"], DB),
    (["webhook", "rm"], DB),
    (["webhook", "deliveries"], ["status", "limit"] + DB),
    (["runs", "list"], ["status", "since", "limit", "fields"] + DB),
    (["runs", "watch"], CLIENT + ["json", "interval-free"]),
    (["runs", "log"], CLIENT),
    (["trigger"], ["wait", "full-sync", "json"] + CLIENT),
    (["exec"], CLIENT + ["json-progress-fd"]),
    (["import"], ["format", "connection"] + DB),
]

GROUPS = {"workspace", "key", "connection", "webhook"}  # their subcommands share one table
EXTRA = ["extra-1", "extra-2", "extra-3", "extra-4"]  # never valid: the parse ends at "unexpected argument"


def group_of(words):
    return words[0] if words[0] in GROUPS else " ".join(words)


def siblings(words):
    return [(w, o) for w, o in COMMANDS if group_of(w) == group_of(words)]


def ids(cases):
    return [" ".join(w) for w, _ in cases]


def run(*args, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "SYNCRUN_DB": str(tmp_path / "absent.db"), "SYNCRUN_URL": "http://127.0.0.1:9"}
    p = subprocess.run([syncrun_bin()] + list(args), capture_output=True, timeout=CLI_TIMEOUT, cwd=tmp_path, env=env)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def listed_options(help_text):
    """{name: takes a value} from the "options:" section that --help prints."""
    section = help_text.split("\noptions:\n", 1)
    assert len(section) == 2, help_text
    opts = {}
    for line in section[1].splitlines():
        if not line.strip():
            break  # the end of the list (exit codes and notes follow)
        m = re.match(r"^  (-h, --help|--([a-z][a-z-]*)(?: (\S+))?)  ", line)
        if m is None:
            assert line.startswith(" " * 8), f"neither an option nor its help's next line: {line!r}"
            continue
        opts["help" if m.group(2) is None else m.group(2)] = m.group(3) is not None
    return opts


def value_for(opts, name):
    return [f"--{name}", "x"] if opts[name] else [f"--{name}"]


@pytest.mark.parametrize("words,accepted", COMMANDS, ids=ids(COMMANDS))
def test_help_lists_every_option_the_parser_accepts(words, accepted, tmp_path):
    rc, out, err = run(*words, "--help", tmp_path=tmp_path)
    assert rc == 0 and out.startswith("usage: syncrun ") and err == "", (rc, err)
    opts = listed_options(out)
    union = {o for _, sib in siblings(words) for o in sib}
    assert set(opts) == union | {"help"}, sorted(set(opts) ^ (union | {"help"}))
    for name in accepted:
        rc, _, err = run(*words, *value_for(opts, name), *EXTRA, tmp_path=tmp_path)
        assert rc == 2, (name, rc, err)
        for refusal in ("unknown option", "is an option of", "needs a value", "takes no value"):
            assert refusal not in err, (name, err)
    assert run(*words, "-h", tmp_path=tmp_path)[:2] == (0, out)


def test_a_group_shows_its_help_too(tmp_path):
    for group, sub in (("key", "list"), ("connection", "rm"), ("webhook", "add"), ("workspace", "create"),
                       ("runs", "list")):
        rc, out, _ = run(group, "--help", tmp_path=tmp_path)
        assert rc == 0 and (0, out) == run(group, sub, "--help", tmp_path=tmp_path)[:2], group


@pytest.mark.parametrize("words,accepted", COMMANDS, ids=ids(COMMANDS))
def test_unknown_option(words, accepted, tmp_path):
    for bad in ("--no-such-option", "--no-such-option=1", "-x"):
        rc, _, err = run(*words, bad, *EXTRA, tmp_path=tmp_path)
        shown = bad.split("=")[0]
        assert rc == 2 and f"syncrun {' '.join(words)}: unknown option '{shown}'" in err, (bad, err)
        assert f"Run 'syncrun {words[0]} --help' for usage." in err, err


@pytest.mark.parametrize("words,accepted", COMMANDS, ids=ids(COMMANDS))
def test_missing_value_and_value_of_a_flag(words, accepted, tmp_path):
    opts = listed_options(run(*words, "--help", tmp_path=tmp_path)[1])
    for name in accepted:
        if opts[name]:
            rc, _, err = run(*words, f"--{name}", tmp_path=tmp_path)
            assert rc == 2 and f"option '--{name}' needs a value" in err, (name, err)
        else:
            rc, _, err = run(*words, f"--{name}=1", *EXTRA, tmp_path=tmp_path)
            assert rc == 2 and f"option '--{name}' takes no value" in err, (name, err)


SUBCOMMAND_CASES = [(w, o) for w, o in COMMANDS if w[0] in GROUPS]


@pytest.mark.parametrize("words,accepted", SUBCOMMAND_CASES, ids=ids(SUBCOMMAND_CASES))
def test_option_of_another_subcommand(words, accepted, tmp_path):
    opts = listed_options(run(*words, "--help", tmp_path=tmp_path)[1])
    others = {o for _, sib in siblings(words) for o in sib} - set(accepted)
    for name in sorted(others):
        rc, _, err = run(*words, *value_for(opts, name), *EXTRA, tmp_path=tmp_path)
        owners = [f"'{' '.join(w)}'" for w, sib in siblings(words) if name in sib]
        named = owners[0] if len(owners) == 1 else ", ".join(owners[:-1]) + " and " + owners[-1]
        assert rc == 2 and f"--{name} is an option of {named}\n" in err, (name, err)


DB_CASES = [(w, o) for w, o in COMMANDS if "db" in o]


@pytest.mark.parametrize("words,accepted", DB_CASES, ids=ids(DB_CASES))
def test_empty_db(words, accepted, tmp_path):
    rc, _, err = run(*words, "--db", "", tmp_path=tmp_path)
    assert rc == 2 and "--db must not be empty" in err, err
    assert not list(tmp_path.iterdir()), "nothing is created"


def test_import_formats_listed_as_accepted(tmp_path):
    help_text = run("import", "--help", tmp_path=tmp_path)[1]
    listed = re.search(r"--format FORMAT\s+one of (.*)\n", help_text).group(1)
    rc, _, err = run("import", "--format", "nope", "--connection", "1", "f.json", tmp_path=tmp_path)
    assert rc == 2 and f"--format must be one of {listed}\n" in err, err


def test_serve_value_errors_say_which_option(tmp_path):
    for args, msg in ((["--threads", "0"], "--threads must be a number from 1 to 64, not '0'"),
                      (["--listen", "nope"], "--listen must be HOST:PORT"),
                      (["--rate-limit", "nope=1/1"], "--rate-limit: no dialect named 'nope'"),
                      (["--tls-cert", "c.pem"], "--tls-cert and --tls-key go together"),
                      (["--access-log", ""], "--access-log needs a file name")):
        rc, _, err = run("serve", *args, tmp_path=tmp_path)
        assert rc == 2 and f"syncrun serve: {msg}" in err, (args, err)
    assert not list(tmp_path.iterdir()), "no database was created"


def test_readme_cli_section_names_only_accepted_options():
    """Each option the README's CLI synopsis shows for a command is one the command accepts."""
    import pathlib
    readme = (pathlib.Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = readme.split("## The CLI\n", 1)[1].split("```\n", 2)[1]
    accepted, checked = None, 0
    for line in block.splitlines():
        if line.startswith("syncrun "):
            words = line.split()[1:]
            accepted = max(((w, o) for w, o in COMMANDS if words[:len(w)] == w), key=lambda c: len(c[0]))[1]
        elif not line.startswith(" ") or accepted is None:
            continue
        for name in re.findall(r"--([a-z][a-z-]*)", line.split("#")[0]):
            assert name in accepted, (name, line)
            checked += 1
    assert checked > 40, checked
