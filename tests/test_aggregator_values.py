"""gf.Aggregator.from_directory and agg.values(...): PyAutoFit's generators over saved fits.

Real fits are saved to a real folder: a short NUTS fit of a factor graph (a shared centre, a
sigma per dataset, a relation and an assertion), a MAP fit of one analysis, and a MAP fit of a
component class the aggregator cannot find (defined in a function).  The values read back must
equal the in-memory results' ``samples`` and ``instance``, in the aggregator's order, read one
fit at a time.
"""

from __future__ import annotations

import inspect
import json
import shutil
import warnings

import numpy as np
import pytest

import graphfit as gf
from graphfit.io import fit_values
from graphfit.io.layout import FILE_HASHES, METADATA, METADATA_HASH
from graphfit.io.saved_model import SavedComponent
from graphfit.io.verify import file_sha256, seal
from graphfit.plan.fingerprint import canonical_json, digest


def graph_fit_graph() -> gf.FactorGraphModel:
    model = gf.Model(gf.ex.Gaussian)
    model.centre = gf.UniformPrior(lower_limit=0.0, upper_limit=100.0)
    factors = []
    for seed in (1, 2):
        own = model.copy()
        own.sigma = gf.UniformPrior(lower_limit=0.0, upper_limit=30.0)
        analysis = gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=seed))
        factors.append(gf.AnalysisFactor(own, analysis))
    doubled = gf.Model(gf.ex.Gaussian, centre=model.centre)
    doubled.normalization = 2.0 * model.normalization
    data = gf.ex.simulate_gaussian_dataset(normalization=50.0, seed=3)
    factors.append(gf.AnalysisFactor(doubled, gf.ex.Analysis(*data), name="double"))
    graph = gf.FactorGraphModel(*factors)
    graph.add_assertion(model.centre > 10.0)
    return graph


@pytest.fixture(scope="module")
def fits(tmp_path_factory):
    """Three fits under one root, named so that the table lists them in this order."""

    class Profile:  # defined here: the aggregator cannot find it, so it makes a stand-in
        def __init__(self, centre=50.0, normalization=1.0, sigma=5.0):
            self.centre, self.normalization, self.sigma = centre, normalization, sigma

        def model_data_from(self, xvalues, xp=np):
            return gf.ex.Gaussian(self.centre, self.normalization, self.sigma).model_data_from(
                xvalues, xp
            )

    root = tmp_path_factory.mktemp("agg_values")
    graph = graph_fit_graph()
    with warnings.catch_warnings():  # a short chain: the convergence check warns
        warnings.simplefilter("ignore", gf.ConvergenceWarning)
        # cores=1: both chains in this process (no worker processes to start for 30 draws)
        nuts = gf.NUTS(
            draws=30, tune=30, chains=2, cores=1, random_seed=1, sampler="pymc",
            progressbar=False, name="a_graph", output_path=root,
        )  # fmt: skip
        graph_result = nuts.fit(model=graph.global_prior_model, analysis=graph)
    data, noise_map = gf.ex.simulate_gaussian_dataset(seed=0)
    single = gf.MAP(random_seed=1, name="b_single", output_path=root).fit(
        model=gf.Collection(gaussian=gf.ex.Gaussian), analysis=gf.ex.Analysis(data, noise_map)
    )
    profile = gf.Model(
        Profile,
        centre=gf.UniformPrior(lower_limit=0.0, upper_limit=100.0),
        normalization=gf.LogUniformPrior(lower_limit=1e-2, upper_limit=1e2),
        sigma=gf.UniformPrior(lower_limit=0.0, upper_limit=30.0),
    )
    local = gf.MAP(random_seed=1, name="c_local", output_path=root).fit(
        model=profile, analysis=gf.ex.Analysis(data, noise_map)
    )
    return root, [graph_result, single, local], Profile


def same_samples(saved: gf.Samples, fitted: gf.Samples) -> None:
    assert type(saved) is gf.Samples
    assert saved.parameter_paths == fitted.parameter_paths
    assert saved.parameter_lists == fitted.parameter_lists
    assert saved.log_likelihood_list == fitted.log_likelihood_list
    assert saved.weight_list == fitted.weight_list
    assert saved.median_pdf(as_instance=False) == fitted.median_pdf(as_instance=False)
    assert saved.values_at_sigma(1.0, as_dict=True) == fitted.values_at_sigma(1.0, as_dict=True)
    assert saved.errors_at_sigma(3.0, as_instance=False) == fitted.errors_at_sigma(
        3.0, as_instance=False
    )
    assert saved.max_log_likelihood(as_dict=True) == fitted.max_log_likelihood(as_dict=True)
    assert saved.log_evidence == fitted.log_evidence
    assert saved.info == fitted.info


def parameters(instance) -> dict:
    return dict(vars(instance))


def test_samples_equal_the_fitted_results_in_table_order(fits):
    root, results, _ = fits
    agg = gf.Aggregator.from_directory(root)
    assert list(agg.table["name"]) == ["a_graph", "b_single", "c_local"]
    saved = list(agg.values("samples"))
    assert len(saved) == 3
    for saved_samples, result in zip(saved, results, strict=True):
        same_samples(saved_samples, result.samples)
    graph_samples = saved[0]
    assert graph_samples.total_samples == 60  # 2 chains x 30 draws, each with its own values
    assert len(set(map(tuple, graph_samples.parameter_lists))) > 1
    assert graph_samples.parameter_paths == [
        ("centre",), ("normalization",), ("sigma", "dataset_0"), ("sigma", "dataset_1"),
        ("sigma", "double"),
    ]  # fmt: skip
    assert saved[1].parameter_paths == [
        ("gaussian", "centre"), ("gaussian", "normalization"), ("gaussian", "sigma")
    ]  # fmt: skip


def test_instances_equal_the_fitted_results(fits):
    root, (graph_result, single, local), _ = fits
    graph_instance, single_instance, local_instance = gf.Aggregator(root).values("instance")
    # a factor graph: every dataset's instance by name, of the class fitted (already imported)
    assert list(dict(graph_instance.items())) == ["dataset_0", "dataset_1", "double"]
    for name, fitted in graph_result.instance.items():
        assert type(getattr(graph_instance, name)) is gf.ex.Gaussian
        assert parameters(getattr(graph_instance, name)) == parameters(fitted)
    assert graph_instance.double.normalization == 2.0 * graph_instance.dataset_0.normalization
    # one analysis: result.instance itself
    assert type(single_instance.gaussian) is gf.ex.Gaussian
    assert parameters(single_instance.gaussian) == parameters(single.instance.gaussian)
    # a class this session cannot find: a stand-in of the same name with the same values
    assert isinstance(local_instance, SavedComponent)
    assert type(local_instance).__name__ == "Profile"
    assert parameters(local_instance) == parameters(local.instance)
    assert repr(local_instance).startswith("Profile(centre=")


def test_reference_gives_the_users_class(fits):
    root, (_, _, local), profile = fits
    agg = gf.Aggregator.from_directory(root, reference={"": profile}).filter(name="c_local")
    (instance,) = agg.values("instance")
    assert type(instance) is profile
    assert parameters(instance) == parameters(local.instance)
    (samples,) = agg.values("samples")
    assert type(samples.median_pdf()) is profile


def test_reference_errors(fits):
    root, _, _ = fits
    with pytest.raises(gf.ResultLoadError) as error:
        gf.Aggregator.from_directory(root, reference={"": "tests.Profile"})
    assert str(error.value) == (
        "Aggregator: reference[''] is 'tests.Profile'; give the class itself (graphfit never "
        "imports a name given as text or read from a file), e.g. "
        "reference={'gaussian': Gaussian}."
    )

    class Other:
        def __init__(self, a=1.0):
            self.a = a

    agg = gf.Aggregator.from_directory(root, reference={"": Other}).filter(name="c_local")
    values = agg.values("instance")  # nothing is read yet
    with pytest.raises(gf.ResultLoadError, match=r"reference\[''\] is Other, whose __init__"):
        next(values)


def test_model_and_search_values(fits):
    root, (graph_result, single, _), _ = fits
    graph_model, single_model, local_model = gf.Aggregator(root).values("model")
    assert single_model.info == single.result_list.graph.factors[0].prior_model.info
    assert single_model.gaussian.cls is gf.ex.Gaussian
    # the graph: each dataset's model by name, shared priors still one object
    assert isinstance(graph_model, gf.Collection)
    assert graph_model.dataset_0.centre is graph_model.double.centre
    assert graph_model.dataset_0.sigma is not graph_model.dataset_1.sigma
    assert isinstance(graph_model.double.normalization, gf.Relation)
    assert graph_model.prior_count == len(graph_result.samples.parameter_paths) == 5
    assert len(graph_model.assertions) == 1
    assert local_model.component_name == "Profile"
    searches = list(gf.Aggregator(root).values("search", parser=lambda s: (s["search"], s)))
    assert [name for name, _ in searches] == ["NUTS", "MAP", "MAP"]
    saved = json.loads((graph_result.output_folder / "search.json").read_text())
    assert searches[0][1] == saved and saved["draws"] == 30


def test_values_are_read_lazily_one_fit_at_a_time(fits, tmp_path, monkeypatch):
    root, results, _ = fits
    copy = tmp_path / "root"
    shutil.copytree(root, copy)
    agg = gf.Aggregator(copy)
    reads = []
    read_joint = fit_values.read_joint
    monkeypatch.setattr(fit_values, "read_joint", lambda folder: reads.append(folder) or (
        read_joint(folder)
    ))  # fmt: skip
    samples = agg.values("samples")
    assert inspect.isgenerator(samples) and reads == []
    # the second fit's posterior is damaged after the generator was made: the first still loads
    (agg.paths[1] / "joint.nc").write_bytes(b"not netcdf")
    first = next(samples)
    assert reads == [agg.paths[0]]
    same_samples(first, results[0].samples)
    with pytest.raises(gf.ResultLoadError, match=r"joint\.nc' could not be read as NetCDF"):
        next(samples)
    assert len(reads) == 2
    assert len(list(agg.values("search"))) == 3  # JSON only: the damaged file is not read


def test_order_and_subsets(fits):
    root, _, _ = fits
    agg = gf.Aggregator.from_directory(root, completed_only=True)
    assert list(agg.values("search", parser=lambda s: s["search"])) == ["NUTS", "MAP", "MAP"]
    assert len(list(agg.filter(search="MAP").values("samples"))) == 2
    subset = agg.query("n_datasets == 3")
    (samples,) = subset.values("samples")
    assert samples.parameter_paths[0] == ("centre",)
    assert list(agg.filter(name="nothing").values("samples")) == []
    assert list(gf.Aggregator(root).table["path"]) == list(agg.table["path"])


def test_unknown_names_raise_at_once(fits):
    root, _, _ = fits
    agg = gf.Aggregator(root)
    with pytest.raises(gf.ResultLoadError) as error:
        agg.values("samples_summary")
    assert str(error.value) == (
        "Aggregator.values('samples_summary'): graphfit saves no such value; use "
        "values('samples') (median_pdf(), values_at_sigma(...)) or agg.table (each parameter's "
        "median and 94% HDI, convergence figures). The names are 'samples', 'instance', "
        "'model', 'search'."
    )
    with pytest.raises(gf.ResultLoadError) as error:
        agg.values("dataset_name")
    assert str(error.value) == (
        "Aggregator.values('dataset_name'): graphfit saves no such value. The names are "
        "'samples', 'instance', 'model', 'search'."
    )
    with pytest.raises(ValueError, match=r"values\('info'\): graphfit saves no such value; "):
        agg.values("info")
    with pytest.raises(gf.ResultLoadError, match=r"Aggregator.values\(3\): graphfit saves no"):
        agg.values(3)
    with pytest.raises(gf.ResultLoadError, match="parser must be callable, got 'x'"):
        agg.values("samples", parser="x")


def test_from_directory_arguments(fits):
    root, _, _ = fits
    assert len(gf.Aggregator.from_directory(directory=root, completed_only=False)) == 3
    with pytest.raises(gf.ResultLoadError) as error:
        gf.Aggregator.from_directory(root, completed_only="yes")
    assert str(error.value) == (
        "Aggregator.from_directory: completed_only must be True or False, got 'yes'."
    )
    with pytest.raises(gf.ResultLoadError, match="reference must be a dict of model path"):
        gf.Aggregator.from_directory(root, reference=["gaussian"])


def test_models_graphfit_cannot_rebuild_raise_while_iterating(fits, tmp_path):
    root, _, _ = fits
    copy = tmp_path / "root"
    shutil.copytree(root, copy)
    (folder,) = gf.Aggregator(copy).filter(name="c_local").paths
    description = json.loads((folder / "model.json").read_text())

    def saved(change) -> str:
        """The error of a fit saved with the model ``change`` makes of the description (its
        hashes as that fit would have saved them: an edit alone is refused, see
        tests/test_folder_hardening.py)."""
        edited = json.loads(json.dumps(description))
        change(edited)
        (folder / "model.json").write_text(json.dumps(edited))
        metadata = json.loads((folder / METADATA).read_text())
        metadata["model_hash"] = digest(canonical_json(edited))
        parts = {k: metadata[k] for k in ("model_hash", "data_hash", "search_hash")}
        metadata["identifier"] = digest(canonical_json(parts))[:16]
        metadata[FILE_HASHES]["model.json"] = file_sha256(folder / "model.json")
        metadata.pop(METADATA_HASH)
        (folder / METADATA).write_text(json.dumps(seal(metadata)))
        agg = gf.Aggregator(copy).filter(name="c_local")
        with pytest.raises(gf.ResultLoadError) as error:
            next(agg.values("samples"))
        return str(error.value).replace(str(folder), "<folder>")

    def own_prior_kind(d):
        d["priors"][0]["kind"] = "MyPrior"

    def fixed_array(d):
        d["factors"][0]["model"]["parameters"]["centre"] = {"array": "ab12"}

    def renamed(d):
        parameters = d["factors"][0]["model"]["parameters"]
        parameters["middle"] = parameters.pop("centre")

    assert saved(own_prior_kind) == (
        "'<folder>': prior 0 is of kind 'MyPrior', not one of graphfit's; load this fit with "
        "its model instead: gf.load_result(folder, model=factor_graph) or "
        "agg.load(k, model=...)."
    )
    assert saved(fixed_array).startswith(
        "'<folder>': the fixed array at 'centre' is saved as a hash only; load this fit with"
    )
    assert saved(renamed) == (
        "'<folder>': the model rebuilt from model.json has the variable middle, which joint.nc "
        "does not hold: the folder was written by another graphfit version or changed since. "
        "Load it with its model: agg.load(k, model=...)."
    )
