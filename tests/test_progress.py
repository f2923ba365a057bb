"""Progress you can see: stage lines with their times, fit_each's bar and keyword, and the
messages that are warnings now (a notebook hides ``logging`` output)."""

from __future__ import annotations

import io
import pickle
import re
import threading
import time
import warnings

import numpy as np
import pytest

import graphfit as gf
from graphfit.exceptions import ResumedFitWarning, SamplerFallbackWarning
from graphfit.search import progress
from graphfit.search.progress import StageReporter, StageTimings
from tests.conftest import cookbook_model, identical_analyses

LINE = re.compile(r"^graphfit: (.+) \((\d+\.\d) s\)$")
#: The redraw interval in the terminal tests: shorter than the package's (0.5 s), so that they
#: wait less, and long enough that a loaded machine's timer thread still keeps to it.
SHORT = 0.2


def stage_lines(text: str) -> list[tuple[str, float]]:
    """``(stage, seconds)`` of every finished stage line in ``text``."""
    found = []
    for line in text.split("\n"):
        match = LINE.match(line.split("\r")[-1])
        if match:
            found.append((match.group(1), float(match.group(2))))
    return found


def one_dataset() -> tuple[gf.Model, gf.ex.Analysis]:
    return cookbook_model(), identical_analyses()[0]


class Terminal(io.StringIO):
    """Output that says it is a terminal."""

    def isatty(self) -> bool:
        return True


# -- stage lines -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sampler",
    [
        "pymc",
        # nutpie's numba compile takes seconds even from its disk cache; the fast tier fits with
        # nutpie in tests/test_searches.py, which checks the same stage times of such a fit
        pytest.param("nutpie", marks=pytest.mark.slow),
    ],
)
def test_nuts_reports_each_stage_in_order_with_its_time(sampler, capsys):
    if sampler == "nutpie":
        pytest.importorskip("nutpie")
    model, analysis = one_dataset()
    search = gf.NUTS(draws=30, tune=30, chains=1, cores=1, random_seed=1, sampler=sampler)
    with warnings.catch_warnings():  # 30 draws of 1 chain: the convergence check says so
        warnings.simplefilter("ignore", gf.ConvergenceWarning)
        result = search.fit(model=model, analysis=analysis)
    err = capsys.readouterr().err
    stages = stage_lines(err)
    assert [name for name, _ in stages] == [
        "building the model",
        "compiling the model",
        "finding start values",
        "sampling",
        "post-processing",
        "finished",
    ]
    assert all(seconds >= 0.0 for _, seconds in stages)
    # the stages' times add up to the whole fit's, which is the fit's recorded total
    total = result.result_list.timings["total"]
    assert stages[-1][1] == pytest.approx(total, abs=0.5)
    assert sum(seconds for _, seconds in stages[:-1]) == pytest.approx(total, abs=0.5)
    # the automatic choice of target_accept is shown with the stages (and logged)
    assert 'graphfit: NUTS target_accept 0.8: "auto", no population with weakly' in err
    assert "\r" not in err  # not a terminal: one line per finished stage, nothing redrawn
    assert set(result.result_list.timings) >= {"build", "start", "sample", "postprocess"}


def test_a_named_fit_reports_saving_and_progressbar_false_prints_nothing(tmp_path, capsys):
    model, analysis = one_dataset()
    gf.MAP(random_seed=1, name="shown", output_path=tmp_path, progressbar=True).fit(
        model=model, analysis=analysis
    )
    err = capsys.readouterr().err
    assert [name for name, _ in stage_lines(err)] == [
        "building the model",
        "saving the fit",
        "finished",
    ]
    search = gf.MAP(random_seed=1, name="quiet", output_path=tmp_path)  # MAP: off by default
    search.fit(model=model, analysis=analysis)
    assert capsys.readouterr() == ("", "")
    # after a fit the search holds plain timings and pickles (fit_each sends it to workers)
    assert type(search._timings) is dict and set(search._timings) == {"build", "total"}
    assert pickle.loads(pickle.dumps(search)).name == "quiet"


def test_nuts_with_progressbar_false_writes_nothing(capfd):
    model, analysis = one_dataset()
    search = gf.NUTS(draws=20, tune=20, chains=1, cores=1, random_seed=1, progressbar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gf.ConvergenceWarning)
        search.fit(model=model, analysis=analysis)
    out, err = capfd.readouterr()
    assert "graphfit:" not in out + err


def test_in_a_terminal_the_stage_line_is_redrawn_in_place_and_the_sampler_draws_alone(
    monkeypatch,
):
    monkeypatch.setattr(progress, "INTERVAL", SHORT)  # the same redraws, sooner
    out = Terminal()
    timings = StageTimings(StageReporter(file=out))
    timings.begin("compile")
    time.sleep(2.5 * SHORT)  # redrawn by the timer at least twice
    assert threading.active_count() >= 2
    timings.begin("sample")  # the sampler's own bar: no line redrawn, no timer thread
    drawn = out.getvalue()
    time.sleep(2.5 * SHORT)
    assert out.getvalue() == drawn and timings.reporter._thread is None
    timings["sample"] = 1.0
    timings["postprocess"] = 0.1
    timings.close(total=3.0)
    text = out.getvalue()
    compile_part = text[: text.index("\n")]
    redraws = compile_part.split("\r")[1:]
    assert len(redraws) >= 3 and redraws[0] == "graphfit: compiling the model (0.0 s)"
    assert LINE.match(redraws[-1]) and float(LINE.match(redraws[-1]).group(2)) >= 2 * SHORT
    assert [name for name, _ in stage_lines(text)] == [
        "compiling the model",
        "sampling",
        "post-processing",
        "finished",
    ]
    assert timings.reporter._thread is None  # nothing left running after the fit


def test_graphfit_progress_lines_writes_one_line_per_stage_even_to_a_terminal(monkeypatch):
    """Executed docs pages record the output: GRAPHFIT_PROGRESS=lines (docs/conf.py) gives one
    line per finished stage, no line redrawn in place and no timer thread."""
    monkeypatch.setenv("GRAPHFIT_PROGRESS", "lines")
    monkeypatch.setattr(progress, "INTERVAL", SHORT)
    out = Terminal()
    timings = StageTimings(StageReporter(file=out))
    timings.begin("compile")
    assert timings.reporter._thread is None
    time.sleep(2.5 * SHORT)  # long enough for the timer to have redrawn, had it been started
    timings["compile"] = 1.0
    timings.close(total=1.5)
    text = out.getvalue()
    assert "\r" not in text
    assert [name for name, _ in stage_lines(text)] == ["compiling the model", "finished"]


def test_a_reporter_that_is_off_writes_nothing_and_starts_no_thread():
    out = Terminal()
    timings = StageTimings(StageReporter(enabled=False, file=out))
    before = threading.active_count()
    assert timings.begin("build") > 0  # still the clock to time the stage with
    timings["build"] = 0.5
    timings.note("a note")
    timings.close(total=1.0)
    assert out.getvalue() == "" and threading.active_count() == before
    assert dict(timings) == {"build": 0.5}


# -- fit_each ----------------------------------------------------------------------------------


def factors(count: int = 2) -> list[gf.AnalysisFactor]:
    return [
        gf.AnalysisFactor(
            cookbook_model(), gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=k))
        )
        for k in range(count)
    ]


def test_fit_each_bar_shows_done_time_left_and_failures(capsys):
    gf.fit_each(factors(), gf.MAP(random_seed=1), progressbar=True)
    err = capsys.readouterr().err
    last = err.strip().split("\r")[-1]
    # done/total, elapsed<time left, rate, failures; nothing from the fits themselves
    assert re.match(r"^fit_each: 100%\|.*\| 2/2 \[\d\d:\d\d<00:00, .*, 0 failed\]$", last), last
    assert "graphfit:" not in err
    gf.fit_each(factors(), gf.MAP(random_seed=1), progressbar=False)
    assert capsys.readouterr() == ("", "")


def test_fit_each_old_progress_keyword_warns_and_both_raise(capsys):
    with pytest.warns(
        FutureWarning,
        match=r"^fit_each: progress= is renamed progressbar= \(as for every search\); "
        r"progress= will be removed in the next release\.$",
    ) as caught:
        result_list = gf.fit_each(factors(1), gf.MAP(random_seed=1), progress=False)
    assert caught[0].filename == __file__  # points at the caller
    assert len(result_list) == 1 and capsys.readouterr() == ("", "")
    with pytest.raises(
        TypeError,
        match=r"^fit_each: give progressbar= only \(progress= is its old name, which will be "
        r"removed\)\.$",
    ):
        gf.fit_each(factors(1), gf.MAP(random_seed=1), progressbar=False, progress=False)


# -- messages a notebook would hide are warnings -----------------------------------------------


def test_loading_a_finished_fit_is_a_warning(tmp_path):
    model, analysis = one_dataset()

    def fit() -> gf.Result:
        search = gf.MAP(random_seed=1, name="again", output_path=tmp_path)
        return search.fit(model=model, analysis=analysis)

    first = fit()
    folder = first.result_list.output_folder
    with pytest.warns(
        ResumedFitWarning,
        match=rf"^graphfit: loaded the finished fit from {re.escape(str(folder))} instead of "
        r"fitting again \(same model, data and search settings\)\. Delete that folder to fit "
        r"again\.$",
    ) as caught:
        second = fit()
    assert second.result_list.resumed
    assert caught[0].filename == __file__ and issubclass(ResumedFitWarning, UserWarning)


class BlackBox(gf.Analysis):
    """A numpy likelihood without a gradient."""

    black_box = True

    def __init__(self, analysis: gf.ex.Analysis) -> None:
        self.analysis = analysis

    def log_likelihood_function(self, instance):
        profile = instance.model_data_from(self.analysis.xvalues)
        residual = (self.analysis.data - profile) / self.analysis.noise_map
        return float(-0.5 * np.sum(residual**2))


def test_nuts_falling_back_to_smc_is_a_warning():
    model, analysis = one_dataset()
    search = gf.NUTS(draws=50, chains=1, random_seed=1, progressbar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gf.ConvergenceWarning)
        with pytest.warns(
            SamplerFallbackWarning,
            match=r"^NUTS: dataset\(s\) dataset_0 have a black-box likelihood \(black_box = "
            r"True\), which has no gradient, so NUTS cannot run; sampling with gf\.SMC "
            r"\(pm\.sample_smc, gradient-free\) instead, draws=50, chains=1\. Use gf\.SMC "
            r"directly to choose its settings\.$",
        ) as caught:
            result = search.fit(model=model, analysis=BlackBox(analysis))
    fallback = [w for w in caught if w.category is SamplerFallbackWarning]
    assert fallback[0].filename == __file__
    assert result.result_list.log_evidence.method == "smc"
