"""`python -m analytics users`: add, list, passwd, role, remove; prompts, exit codes, messages."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from analytics.accounts import AccountStore, verify_password
from analytics.cli import main

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new password"
UNKNOWN = (
    "There is no user called 'nobody' in {path}; "
    "`python -m analytics users list` shows who there is."
)
SINGLE_USER = (
    "No accounts: Touchpoint runs in single-user local mode. Add one with "
    "`python -m analytics users add NAME --role admin`.\n"
)


@pytest.fixture
def accounts_file(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("TOUCHPOINT_WAREHOUSE", str(tmp_path / "wh"))
    monkeypatch.setenv("TOUCHPOINT_ACCOUNTS", str(tmp_path / "secrets" / "accounts.toml"))
    return tmp_path / "secrets" / "accounts.toml"


def run(capsys, monkeypatch, *args: str, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def prompts(monkeypatch, *answers: str) -> list[str]:
    """Answer `getpass.getpass` prompts in order; returns the prompts shown."""
    shown: list[str] = []
    replies = iter(answers)

    def fake_getpass(prompt: str = "Password: ") -> str:
        shown.append(prompt)
        return next(replies)

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    return shown


def test_add_list_passwd_role_remove(accounts_file, capsys, monkeypatch):
    code, out, err = run(
        capsys,
        monkeypatch,
        "users",
        "add",
        "ada@example.com",
        "--role",
        "admin",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert (code, out, err) == (0, f"Added ada@example.com as admin to {accounts_file}.\n", "")
    assert verify_password(
        PASSWORD, AccountStore(accounts_file).get("ada@example.com").password_hash
    )

    code, out, _ = run(capsys, monkeypatch, "users", "list", "--format", "json")
    assert code == 0
    assert json.loads(out) == [{"name": "ada@example.com", "role": "admin", "limits": ""}]
    code, out, _ = run(capsys, monkeypatch, "users", "list")
    assert code == 0
    assert "ada@example.com" in out
    assert "admin" in out
    assert "scrypt" not in out

    code, out, _ = run(
        capsys,
        monkeypatch,
        "users",
        "passwd",
        "ADA@example.com",
        "--password-stdin",
        stdin=NEW_PASSWORD + "\r\n",
    )
    assert (code, out) == (0, "Changed the password of ada@example.com.\n")
    account = AccountStore(accounts_file).get("ada@example.com")
    assert verify_password(NEW_PASSWORD, account.password_hash)

    code, out, _ = run(capsys, monkeypatch, "users", "role", "ada@example.com", "viewer")
    assert (code, out) == (0, "ada@example.com is now viewer.\n")
    assert AccountStore(accounts_file).get("ada@example.com").role == "viewer"

    code, out, _ = run(capsys, monkeypatch, "users", "remove", "ada@example.com")
    assert (code, out) == (0, "Removed ada@example.com.\n" + SINGLE_USER)
    assert run(capsys, monkeypatch, "users", "list")[:2] == (0, SINGLE_USER)
    assert run(capsys, monkeypatch, "users", "list", "--format", "json")[:2] == (0, "[]\n")


def test_accounts_option_overrides_the_setting_before_or_after_the_action(
    accounts_file, tmp_path, capsys, monkeypatch
):
    other = tmp_path / "other.toml"
    code, _, err = run(
        capsys,
        monkeypatch,
        "users",
        "--accounts",
        str(other),
        "add",
        "bob",
        "--role",
        "viewer",
        "--password-stdin",
        stdin=PASSWORD,
    )
    assert (code, err) == (0, "")
    assert [a.name for a in AccountStore(other).accounts()] == ["bob"]
    assert not accounts_file.exists()
    code, out, _ = run(
        capsys, monkeypatch, "users", "list", "--format", "json", "--accounts", str(other)
    )
    assert json.loads(out) == [{"name": "bob", "role": "viewer", "limits": ""}]


def test_prompts_twice_and_adds_when_both_match(accounts_file, capsys, monkeypatch):
    shown = prompts(monkeypatch, PASSWORD, PASSWORD)
    code, _, err = run(capsys, monkeypatch, "users", "add", "ada", "--role", "analyst")
    assert (code, err) == (0, "")
    assert shown == ["New password for ada: ", "Repeat the password: "]
    assert AccountStore(accounts_file).get("ada").role == "analyst"


def test_mismatching_prompts_change_nothing(accounts_file, capsys, monkeypatch):
    prompts(monkeypatch, PASSWORD, PASSWORD + "!")
    code, out, err = run(capsys, monkeypatch, "users", "add", "ada", "--role", "analyst")
    assert (code, out) == (2, "")
    assert err == "touchpoint: The passwords do not match; nothing was changed.\n"
    assert not accounts_file.exists()


def test_short_password_is_refused_before_the_second_prompt(accounts_file, capsys, monkeypatch):
    shown = prompts(monkeypatch, "short", "short")
    code, _, err = run(capsys, monkeypatch, "users", "add", "ada", "--role", "viewer")
    assert code == 2
    assert err == "touchpoint: A password needs at least 12 characters; this one has 5.\n"
    assert shown == ["New password for ada: "]


def test_end_of_input_at_the_prompt_is_a_message_not_a_traceback(
    accounts_file, capsys, monkeypatch
):
    def no_input(prompt: str = "") -> str:
        raise EOFError

    monkeypatch.setattr("getpass.getpass", no_input)
    code, _, err = run(capsys, monkeypatch, "users", "add", "ada", "--role", "viewer")
    assert (code, err) == (2, "touchpoint: No password was given; nothing was changed.\n")


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            ["add", "ada", "--role", "boss", "--password-stdin"],
            PASSWORD,
            "The role must be one of viewer, analyst, admin. Got 'boss' instead.",
        ),
        (
            ["add", "ada lovelace", "--role", "viewer", "--password-stdin"],
            PASSWORD,
            "A user name must be 1 to 64 characters of letters, digits, '.', '_', '-' or '@'. "
            "Got 'ada lovelace' instead.",
        ),
        (
            ["add", "ada", "--role", "viewer", "--password-stdin"],
            "short\n",
            "A password needs at least 12 characters; this one has 5.",
        ),
        (
            ["add", "ada", "--role", "viewer", "--password-stdin"],
            "",
            "A password needs at least 12 characters; this one has 0.",
        ),
        (["passwd", "nobody", "--password-stdin"], PASSWORD, UNKNOWN),
        (["role", "nobody", "admin"], "", UNKNOWN),
        (["remove", "nobody"], "", UNKNOWN),
    ],
    ids=[
        "role",
        "name",
        "short-password",
        "empty-stdin",
        "passwd-unknown",
        "role-unknown",
        "remove-unknown",
    ],
)
def test_bad_input_exits_2_with_one_line(accounts_file, capsys, monkeypatch, args, stdin, message):
    code, out, err = run(capsys, monkeypatch, "users", *args, stdin=stdin)
    assert (code, out) == (2, "")
    assert err == "touchpoint: " + message.format(path=accounts_file) + "\n"


def test_an_existing_name_is_refused_before_asking_for_a_password(
    accounts_file, capsys, monkeypatch
):
    AccountStore(accounts_file).add("ada", "viewer", PASSWORD)
    shown = prompts(monkeypatch)
    code, _, err = run(capsys, monkeypatch, "users", "add", "ADA", "--role", "admin")
    assert code == 2
    assert err.startswith(f"touchpoint: A user called 'ADA' already exists in {accounts_file};")
    assert shown == []
    assert AccountStore(accounts_file).get("ada").role == "viewer"


def test_a_damaged_accounts_file_is_a_message(accounts_file, capsys, monkeypatch):
    accounts_file.parent.mkdir(parents=True)
    accounts_file.write_text("[users.ada\n", encoding="utf-8")
    code, _, err = run(capsys, monkeypatch, "users", "list")
    assert code == 2
    assert err.startswith(f"touchpoint: The accounts file {accounts_file} cannot be read (")
    assert len(err.splitlines()) == 1


def test_users_help(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["users", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m analytics users [-h] [--accounts PATH] ACTION ...")
    for action in ("list", "add", "passwd", "role", "remove"):
        assert f"    {action} " in out


def test_users_without_an_action_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["users"])
    assert exited.value.code == 2
    assert "the following arguments are required: ACTION" in capsys.readouterr().err


def test_limit_sets_and_clears_row_level_access(tmp_path, capsys, monkeypatch):
    from analytics.accounts import AccountStore

    path = tmp_path / "accounts.toml"
    AccountStore(path).add("vera", "viewer", "correct horse battery")

    code = main(["users", "--accounts", str(path), "limit", "vera", "region=EMEA", "region=APAC"])
    out, _ = capsys.readouterr()
    assert (code, out.strip()) == (0, "vera now sees region = EMEA, APAC.")

    code = main(["users", "--accounts", str(path), "list", "--format", "json"])
    out, _ = capsys.readouterr()
    assert json.loads(out) == [{"name": "vera", "role": "viewer", "limits": "region = EMEA, APAC"}]

    code = main(["users", "--accounts", str(path), "limit", "vera"])
    out, _ = capsys.readouterr()
    assert (code, out.strip()) == (0, "vera now sees everything.")

    code = main(["users", "--accounts", str(path), "limit", "vera", "region"])
    _, err = capsys.readouterr()
    assert code == 2 and "A limit needs COLUMN=VALUE" in err


def test_access_changes_and_exports_land_in_the_audit_log(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TOUCHPOINT_WAREHOUSE", str(tmp_path / "wh"))
    monkeypatch.setenv("TOUCHPOINT_USER", "operator")
    path = tmp_path / "accounts.toml"
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery\n"))
    main(["users", "--accounts", str(path), "add", "vera", "--role", "viewer", "--password-stdin"])
    main(["users", "--accounts", str(path), "limit", "vera", "region=EMEA"])
    main(["kpis", "--kpi", "orders", "--format", "csv"])
    capsys.readouterr()

    assert main(["audit", "--format", "json"]) == 0
    entries = json.loads(capsys.readouterr()[0])
    assert [(e["event"], e["user"], e["details"]) for e in entries] == [
        ("export", "operator", "format=csv, rows=0, what=kpis"),
        ("access_change", "operator", "limits=region = EMEA, user=vera"),
        ("access_change", "operator", "added=vera, role=viewer"),
    ]
