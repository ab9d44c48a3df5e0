"""The portal's message catalogues: every key in both languages, the same placeholders, and every key the
portal's code uses present (no user-visible string lives in the code)."""

from __future__ import annotations

import json
import re
from pathlib import Path

PORTAL = Path(__file__).resolve().parents[2] / "portal"
LOCALES = ("zh-CN", "en")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def flat(tree: dict, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def catalogue(locale: str) -> dict[str, str]:
    """The core catalogue and every domain module's (portal/src/<domain>/locales/), merged as the portal does."""
    files = [PORTAL / "src" / "locales" / f"{locale}.json", *sorted(PORTAL.glob(f"src/*/locales/{locale}.json"))]
    merged: dict[str, str] = {}
    for path in files:
        tree = json.loads(path.read_text(encoding="utf-8"))
        if path.parent.parent.name != "src":  # a domain module's: its own top-level keys, and error messages
            owned = set(tree) - {"errors"}
            assert not owned & {key.split(".")[0] for key in merged}, f"{path} redefines a top-level key"
            assert not set(flat(tree.get("errors", {}), "errors.")) & set(merged), f"{path} redefines an error"
        merged.update(flat(tree))
    return merged


def sources() -> str:
    files = [*PORTAL.glob("src/**/*.vue"), *PORTAL.glob("src/**/*.js")]
    return "\n".join(path.read_text(encoding="utf-8") for path in files)


def test_every_key_in_both_languages() -> None:
    zh, en = catalogue("zh-CN"), catalogue("en")
    assert sorted(set(zh) ^ set(en)) == []
    for key in zh:
        assert isinstance(zh[key], str) and zh[key].strip() and en[key].strip(), key
        assert set(PLACEHOLDER.findall(zh[key])) == set(PLACEHOLDER.findall(en[key])), key


def test_chinese_catalogue_is_chinese() -> None:
    zh = catalogue("zh-CN")
    chinese = [key for key, text in zh.items() if re.search(r"[\u4e00-\u9fff]", text)]
    assert len(chinese) > 0.8 * len(zh)


def test_keys_used_by_the_code_exist() -> None:
    code = sources()
    keys = catalogue("en")
    used = set(re.findall(r"""\bt\(\s*["']([\w.:+-]+)["']""", code))
    used |= set(re.findall(r"""title:\s*"([\w.]+)\"""", code)) - {"heritage.panelTitle"}  # panel titles
    assert used, "no t('…') call found"
    missing = sorted(key for key in used if key not in keys)
    assert missing == []
    # dynamic keys t(`group.${…}`): the group exists
    groups = set(re.findall(r"""\bt\(`(\w+)\.\$\{""", code))
    assert groups and all(any(key.startswith(f"{group}.") for key in keys) for group in groups), groups


def test_error_codes_of_the_platform_are_translated() -> None:
    """Every error code of the platform's core, accounts, datasets and converters has a message in the
    catalogues. (Codes of domain packages added later show their English detail until translated.)"""
    keys = catalogue("zh-CN")
    root = PORTAL.parent
    sources = [
        *root.glob("cim_platform/core/**/*.py"),
        *root.glob("cim_platform/accounts/**/*.py"),
        *root.glob("cim_platform/datasets/**/*.py"),
        *root.glob("converters/errors.py"),
        *root.glob("api/*.py"),
    ]
    codes = set()
    for path in sources:
        codes |= set(re.findall(r"""^\s+code(?::\s*str)?\s*=\s*"(\w+)\"""", path.read_text(encoding="utf-8"), re.M))
    codes -= {"error", "weak_session_secret", "backup"}  # never answered to a browser
    assert {"invalid_input", "not_found", "invalid_credentials"} <= codes
    assert sorted(code for code in codes if f"errors.{code}" not in keys) == []
