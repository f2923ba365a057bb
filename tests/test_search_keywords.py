"""Search keywords: typos refused when a search is built, PyAutoFit's bookkeeping keywords
accepted with their meaning (``unique_tag``, ``number_of_cores``) or with one note."""

import re
import warnings

import pytest

import graphfit as gf
from graphfit.exceptions import ResumedFitWarning
from graphfit.io.identifier import fit_identity, search_settings
from graphfit.search.keywords import settle_keywords
from graphfit.search.smc import default_cores
from tests.conftest import cookbook_model, identical_analyses, identical_graph

PYAUTOFIT = (
    "number_of_cores, seed, silence, iterations_per_update, iterations_per_full_update, "
    "iterations_per_quick_update, live_visual_update, session, force_x1_cpu"
)


def one_dataset() -> gf.FactorGraphModel:
    """The cookbook's model on one dataset, as a graph (whose fit has an output folder)."""
    return gf.FactorGraphModel(gf.AnalysisFactor(cookbook_model(), identical_analyses()[0]))


@pytest.mark.parametrize(
    ("search", "kwargs", "message"),
    [
        (
            gf.NUTS,
            {"draw": 100},
            "NUTS got an unknown keyword 'draw'; did you mean 'draws'? NUTS takes draws, tune, "
            "chains, random_seed, name, path_prefix, progressbar, sampler, output_path, cores, "
            "target_accept, unique_tag, plots, sampler_kwargs; and PyAutoFit's bookkeeping keywords "
            f"{PYAUTOFIT}. Options of the sampler itself go in sampler_kwargs={{...}}.",
        ),
        (
            gf.MAP,
            {"n_randoms": 10},
            "MAP got an unknown keyword 'n_randoms'; did you mean 'n_random'? MAP takes "
            "n_random, n_optimise, random_seed, name, path_prefix, progressbar, output_path, "
            f"unique_tag, plots; and PyAutoFit's bookkeeping keywords {PYAUTOFIT}.",
        ),
        (
            gf.SMC,
            {"threshhold": 0.6},
            "SMC got an unknown keyword 'threshhold'; did you mean 'threshold'? SMC takes draws, "
            "chains, random_seed, name, path_prefix, progressbar, cores, threshold, "
            "correlation_threshold, output_path, unique_tag, plots, sampler_kwargs; and PyAutoFit's "
            f"bookkeeping keywords {PYAUTOFIT}. Options of the sampler itself go in "
            "sampler_kwargs={...}.",
        ),
        (
            gf.DynestyStatic,
            {"n_live": 100},
            "DynestyStatic got an unknown keyword 'n_live'; did you mean 'nlive'? DynestyStatic "
            "takes nlive, bound, sample, dlogz, maxcall, random_seed, name, path_prefix, "
            "progressbar, output_path, unique_tag, plots, walks, facc, slices, bootstrap, enlarge, "
            "update_interval, first_update, fmove, max_move, maxiter, logl_max, sampler_kwargs; "
            f"and PyAutoFit's bookkeeping keywords {PYAUTOFIT}. Options of the sampler itself go "
            "in sampler_kwargs={...}.",
        ),
    ],
)
def test_a_typo_fails_when_the_search_is_built(search, kwargs, message):
    with pytest.raises(gf.SearchKeywordError) as raised:
        search(**kwargs)
    assert str(raised.value) == message
    # a TypeError, as Python's own for an unexpected keyword, and a graphfit search error
    assert isinstance(raised.value, TypeError)
    assert isinstance(raised.value, gf.SearchError)


def test_typos_of_pyautofit_keywords_and_several_typos_at_once():
    with pytest.raises(
        TypeError,
        match=r"^MAP got an unknown keyword 'number_of_core'; did you "
        r"mean 'number_of_cores'\? ",
    ):
        gf.MAP(number_of_core=2)
    with pytest.raises(
        gf.SearchKeywordError,
        match=r"^NUTS got unknown keywords 'draw' \(did you mean 'draws'\?\), 'tunes' \(did you "
        r"mean 'tune'\?\), 'init'\. NUTS takes draws, ",
    ):
        gf.NUTS(draw=10, tunes=10, init="adapt_diag")
    # no keyword near: no suggestion
    with pytest.raises(gf.SearchKeywordError, match=r"^SMC got an unknown keyword 'kernel'\. SMC "):
        gf.SMC(kernel="IMH")


def test_sampler_options_go_in_sampler_kwargs():
    search = gf.NUTS(sampler="pymc", sampler_kwargs={"max_treedepth": 12})
    assert search.sampler_kwargs == {"max_treedepth": 12}
    assert gf.NUTS().sampler_kwargs == {}
    assert gf.SMC(sampler_kwargs={"kernel": "IMH"}).sampler_kwargs == {"kernel": "IMH"}
    assert gf.DynestyStatic(sampler_kwargs={"periodic": [0]}).sampler_kwargs == {"periodic": [0]}
    with pytest.raises(
        gf.SearchError,
        match=r"^NUTS: sampler_kwargs must be a dict of keyword arguments or None, got 'x'\.$",
    ):
        gf.NUTS(sampler_kwargs="x")


def test_number_of_cores_becomes_cores():
    assert gf.NUTS(chains=4, number_of_cores=3).cores == 3
    # the default: the usable cores, at most one per chain
    assert gf.NUTS(chains=4, number_of_cores=None).cores == default_cores(4)
    assert gf.SMC(number_of_cores=1).cores == 1
    assert gf.NUTS(cores=3, number_of_cores=3).cores == 3  # the same value twice is fine
    with pytest.raises(
        gf.SearchKeywordError,
        match=r"^NUTS got cores=2 and PyAutoFit's number_of_cores=4, which is another name for "
        r"cores; give one of them\.$",
    ):
        gf.NUTS(cores=2, number_of_cores=4)
    with pytest.raises(gf.SearchError, match=r"^NUTS: cores must be an integer >= 1, got 0\.$"):
        gf.NUTS(number_of_cores=0)
    # searches that run in one process: 1 core is what they do, more is noted and ignored
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gf.MAP(number_of_cores=1)
        gf.DynestyStatic(number_of_cores=1)
    with pytest.warns(gf.IgnoredKeywordWarning) as record:
        gf.DynestyStatic(number_of_cores=4)
    assert [str(w.message) for w in record] == [
        "DynestyStatic ignores PyAutoFit's number_of_cores=4: DynestyStatic runs in one process."
    ]


def test_seed_and_silence_mean_random_seed_and_no_progress_bar():
    search = gf.NUTS(seed=7, silence=True)
    assert search.random_seed == 7 and search.progressbar is False
    assert gf.NUTS(silence=False).progressbar is True
    assert gf.SMC(seed=3).random_seed == 3
    with pytest.raises(gf.SearchKeywordError, match=r"^MAP got random_seed=1 and PyAutoFit's "):
        gf.MAP(random_seed=1, seed=2)


def test_ignored_keywords_are_noted_once_per_search():
    with pytest.warns(gf.IgnoredKeywordWarning) as record:
        gf.NUTS(
            iterations_per_update=500,
            iterations_per_full_update=1000,
            session="db",
            live_visual_update=True,
            force_x1_cpu=True,
        )
    assert len(record) == 1
    assert str(record[0].message) == (
        "NUTS ignores PyAutoFit's iterations_per_update=500: graphfit writes a fit's output "
        "folder once, when the fit has finished, and nothing while it runs; "
        "iterations_per_full_update=1000: graphfit writes a fit's output folder once, when the "
        "fit has finished, and nothing while it runs; session='db': graphfit keeps no SQLite "
        "database; gf.Aggregator reads the output folders; live_visual_update=True: graphfit "
        "draws no plots while a fit runs; force_x1_cpu=True: graphfit uses no pool of worker "
        "processes for this search."
    )
    assert record[0].filename == __file__  # points at the line that built the search
    assert issubclass(gf.IgnoredKeywordWarning, UserWarning)
    # values that ask for nothing are accepted silently
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gf.SMC(session=None, iterations_per_full_update=None, force_x1_cpu=False, silence=False)


def test_settle_keywords_returns_the_search_own_values():
    own = settle_keywords(gf.SMC, {}, cores=None, random_seed=None, progressbar=True)
    assert own == {"cores": None, "random_seed": None, "progressbar": True}


def test_unique_tag_is_checked_and_part_of_the_identifier():
    graph = identical_graph()
    plain = fit_identity(graph, gf.MAP(random_seed=1))
    # without a tag, the settings (and so existing identifiers) are unchanged
    assert "unique_tag" not in search_settings(gf.MAP(random_seed=1))
    tagged = fit_identity(graph, gf.MAP(random_seed=1, unique_tag="night_1"))
    other = fit_identity(graph, gf.MAP(random_seed=1, unique_tag="night_2"))
    assert len({plain["identifier"], tagged["identifier"], other["identifier"]}) == 3
    assert tagged["model_hash"] == plain["model_hash"]
    assert tagged["search"]["unique_tag"] == "night_1"
    with pytest.raises(
        gf.SearchError, match=r"^NUTS: unique_tag must be a non-empty string or None, got 3\.$"
    ):
        gf.NUTS(unique_tag=3)


def test_unique_tag_gives_its_own_output_folder(tmp_path):
    """Fits that differ only by their tag are saved to folders of their own; a rerun with the
    same tag loads its folder."""
    graph = one_dataset()

    def fit(tag):
        search = gf.MAP(random_seed=1, name="tagged", output_path=tmp_path, unique_tag=tag)
        return search.fit(model=graph.global_prior_model, analysis=graph)

    untagged, first, second = fit(None), fit("night_1"), fit("night_2")
    folders = [r.output_folder for r in (untagged, first, second)]
    assert len(set(folders)) == 3
    assert all(f.parent == tmp_path / "tagged" for f in folders)
    assert sorted(p.name for p in (tmp_path / "tagged").iterdir()) == sorted(
        f.name for f in folders
    )
    assert "night_1" in (folders[1] / "search.json").read_text()
    with pytest.warns(ResumedFitWarning, match="loaded the finished fit"):
        again = fit("night_1")
    assert again.output_folder == folders[1]
    assert again[0].max_log_likelihood_instance.centre == pytest.approx(
        first[0].max_log_likelihood_instance.centre
    )


def test_dynesty_takes_pyautofit_defaults():
    search = gf.DynestyStatic()
    assert (search.nlive, search.bound, search.sample, search.dlogz) == (50, "multi", "auto", None)
    assert (search.walks, search.facc, search.slices, search.maxcall) == (5, 0.2, 5, None)
    with pytest.raises(
        gf.SearchError, match=r"^DynestyStatic: dlogz must be > 0 or None, got 0\.$"
    ):
        gf.DynestyStatic(dlogz=0)


def test_dynesty_gives_fmove_only_to_a_dynesty_that_takes_it():
    def dynesty_2(loglike, prior_transform, ndim, fmove=0.9, max_move=100, **kwargs):
        """dynesty 2's NestedSampler takes fmove and max_move."""

    def dynesty_3(loglike, prior_transform, ndim, **kwargs):
        """dynesty 3's does not."""

    search = gf.DynestyStatic(fmove=0.5, walks=10)
    settings = search._sampler_settings(dynesty_2)
    assert settings["fmove"] == 0.5 and settings["max_move"] == 100 and settings["walks"] == 10
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # defaults: nothing to say
        assert "fmove" not in gf.DynestyStatic()._sampler_settings(dynesty_3)
    with pytest.warns(
        gf.IgnoredKeywordWarning,
        match=r"^DynestyStatic ignores fmove=0\.5: the installed dynesty has no such setting",
    ):
        assert "fmove" not in search._sampler_settings(dynesty_3)


def test_a_cookbook_dynesty_search_runs_with_pyautofit_keywords(tmp_path):
    """The cookbook's search line with PyAutoFit's bookkeeping keywords, on one dataset."""
    pytest.importorskip("dynesty")
    with pytest.warns(gf.IgnoredKeywordWarning, match=r"iterations_per_full_update=1000"):
        search = gf.DynestyStatic(
            path_prefix="features",
            sample="rwalk",
            name="multiple_datasets_simple",
            unique_tag="example_tag",
            number_of_cores=1,
            iterations_per_full_update=1000,
            session=None,
            silence=True,
            seed=1,
            output_path=tmp_path,
        )
    graph = one_dataset()
    result = search.fit(model=graph.global_prior_model, analysis=graph)
    assert result.log_evidence.method == "dynesty"
    instance = result[0].max_log_likelihood_instance
    assert instance.centre == pytest.approx(50.0, abs=2.0)
    assert instance.sigma == pytest.approx(10.0, abs=2.0)
    folder = result.output_folder
    assert folder.parent == tmp_path / "features" / "multiple_datasets_simple"
    assert re.fullmatch(r"[0-9a-f]{16}", folder.name)
    assert '"unique_tag": "example_tag"' in (folder / "search.json").read_text()
    assert '"nlive": 50' in (folder / "search.json").read_text()
