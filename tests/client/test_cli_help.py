"""Every ``oneiros`` subcommand prints its help (regression: KeyError 'default' in subcommand help)."""

from __future__ import annotations

import pytest

from oneiros_client import cli


@pytest.mark.parametrize("command", ["health", "models", "decode", "edit", "sample", "dream", "stylize"])
def test_subcommand_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: oneiros {command}")
    assert "ONEIROS_TARGET; default" in out
