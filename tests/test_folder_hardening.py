"""Output folders are data from outside: crafted folders are refused with a clear error.

Each test copies a real saved fit (two MAP fits on simulated data: two datasets and three)
and crafts one thing in it: a path in the metadata, a symlink, a file copied from another fit,
an edited figure, a wrong JSON type.  See ``graphfit/io/verify.py``.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

import graphfit as gf
from graphfit.backend import stack
from graphfit.exceptions import ResumedFitWarning
from graphfit.io.layout import FILE_HASHES, FORMAT_VERSION, METADATA, METADATA_HASH
from graphfit.io.output import fit_folder
from graphfit.io.verify import file_hashes, seal


def graph(seeds: tuple[int, ...]) -> gf.FactorGraphModel:
    model = gf.Model(gf.ex.Gaussian)
    model.centre = gf.UniformPrior(lower_limit=0.0, upper_limit=100.0)
    analyses = [gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=seed)) for seed in seeds]
    return gf.FactorGraphModel(*[gf.AnalysisFactor(model, a) for a in analyses])


PAIR, TRIPLE = (0, 1), (0, 1, 2)


def search(root: Path, name: str, random_seed: int = 1) -> gf.MAP:
    return gf.MAP(random_seed=random_seed, name=name, output_path=root)


def fit(root: Path, name: str, seeds: tuple[int, ...], random_seed: int = 1) -> gf.ResultList:
    g = graph(seeds)
    return search(root, name, random_seed).fit(model=g.global_prior_model, analysis=g)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A two-dataset fit ("pair") and a three-dataset fit ("triple") of the same model."""
    root = tmp_path_factory.mktemp("saved")
    return root, {"pair": fit(root, "pair", PAIR), "triple": fit(root, "triple", TRIPLE)}


def copy_fit(saved, name: str, tmp_path: Path, version: int = FORMAT_VERSION) -> Path:
    """A copy of the saved fit ``name`` under ``tmp_path / "root"`` (same relative path), in
    folder format ``version`` (2: as graphfit wrote it before format 3, see
    :func:`as_version_2`)."""
    root, results = saved
    folder = results[name].output_folder
    target = tmp_path / "root" / folder.relative_to(root)
    shutil.copytree(folder, target)
    return as_version_2(target) if version == 2 else target


def edit_metadata(folder: Path, edit, reseal: bool = False) -> None:
    metadata = json.loads((folder / METADATA).read_text())
    edit(metadata)
    if reseal:
        metadata = seal({k: v for k, v in metadata.items() if k != METADATA_HASH})
    (folder / METADATA).write_text(json.dumps(metadata))


def as_version_2(folder: Path) -> Path:
    """``folder`` rewritten as a format version 2 folder: each dataset's view also saved in
    ``datasets/<k>.nc``, listed in ``dataset_files`` and hashed, and no split entries."""
    (folder / "datasets").mkdir()
    files = []
    for k, result in enumerate(gf.load_result(folder)):
        files.append(f"datasets/{k:04d}.nc")
        stack.write_netcdf(result.idata, str(folder / files[-1]))

    def edit(metadata):
        del metadata["split"]
        metadata.update(format_version=2, dataset_files=files)
        metadata[FILE_HASHES].update(file_hashes(folder, files))

    edit_metadata(folder, edit, reseal=True)
    return folder


def outside_copy(saved, tmp_path: Path, relative: str) -> Path:
    """The pair fit's own ``relative`` file, copied to a folder outside the fit."""
    outside = tmp_path / "outside"
    outside.mkdir(exist_ok=True)
    target = outside / Path(relative).name
    shutil.copy(saved[1]["pair"].output_folder / relative, target)
    return target


# -- what is saved ------------------------------------------------------------------------------


def test_a_saved_fit_holds_the_hash_of_every_file_and_of_its_metadata(saved):
    folder = saved[1]["triple"].output_folder
    metadata = json.loads((folder / METADATA).read_text())
    assert sorted(metadata[FILE_HASHES]) == [
        "joint.nc", "model.info", "model.json", "search.json", "summary.csv",
    ]  # fmt: skip
    assert sorted(p.name for p in folder.iterdir()) == [
        "COMPLETED", "graphfit.json", "joint.nc", "model.info", "model.json", "search.json",
        "summary.csv",
    ]  # fmt: skip
    assert metadata[METADATA_HASH] == seal(metadata)[METADATA_HASH]
    loaded = gf.load_result(folder)
    assert [loaded[k].idata.posterior.sizes["draw"] for k in range(3)] == [1, 1, 1]


# -- paths in the metadata ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["../../outside/0001.nc", "datasets/../../../outside/0001.nc", "ABSOLUTE", "datasets/1.nc"],
)
@pytest.mark.parametrize("reseal", [False, True])
def test_a_dataset_file_path_other_than_the_layouts_is_refused(saved, tmp_path, value, reseal):
    folder = copy_fit(saved, "pair", tmp_path, version=2)
    target = tmp_path / "outside" / "0001.nc"
    target.parent.mkdir()
    shutil.copy(folder / "datasets/0001.nc", target)
    value = str(target) if value == "ABSOLUTE" else value
    edit_metadata(folder, lambda m: m["dataset_files"].__setitem__(1, value), reseal=reseal)
    message = (
        rf"graphfit\.json': dataset_files\[1\] is '{re.escape(value)}', not 'datasets/0001\.nc': a "
        r"result's files are named by the folder layout \(datasets/0000\.nc, "
        r"datasets/0001\.nc, \.\.\. in dataset order\) and lie inside its folder, so no other "
        r"path is read\."
    )
    with pytest.raises(gf.ResultLoadError, match=message):
        gf.load_result(folder)
    agg = gf.Aggregator(tmp_path / "root")
    assert len(agg) == 0 and list(agg.skipped) == [str(folder)]
    assert "dataset_files[1] is" in agg.skipped[str(folder)]


@pytest.mark.parametrize("relative", ["datasets/0001.nc", "joint.nc", "search.json"])
def test_a_file_symlinked_outside_the_folder_is_refused(saved, tmp_path, relative):
    folder = copy_fit(saved, "pair", tmp_path, version=2 if "datasets" in relative else 3)
    target = tmp_path / "outside" / Path(relative).name  # the same bytes: its hash would match
    target.parent.mkdir()
    shutil.copy(folder / relative, target)
    (folder / relative).unlink()
    (folder / relative).symlink_to(target)
    message = (
        rf"': '{relative}' resolves to '{re.escape(str(target))}', outside the result folder \(an absolute "
        r"path, '\.\.' or a symlink out\); graphfit reads a result's files from inside its "
        r"folder only\.$"
    )
    with pytest.raises(gf.ResultLoadError, match=message):
        gf.load_result(folder)
    with pytest.raises(gf.ResultLoadError, match=message):
        fit(tmp_path / "root", "pair", PAIR)  # resuming


@pytest.mark.parametrize("extra", ["plots/fit_dataset_0.png", "notes.txt"])
def test_any_path_of_the_folder_symlinked_outside_is_refused(saved, tmp_path, extra):
    """Every path in the folder is checked, not only the files the layout names."""
    folder = copy_fit(saved, "pair", tmp_path)
    target = tmp_path / "outside.png"
    target.write_bytes(b"")
    (folder / extra).parent.mkdir(exist_ok=True)
    (folder / extra).symlink_to(target)
    with pytest.raises(
        gf.ResultLoadError,
        match=rf"': '{re.escape(extra)}' resolves to '{re.escape(str(target))}', outside the",
    ):
        gf.load_result(folder)


def test_a_datasets_folder_symlinked_outside_is_refused(saved, tmp_path):
    folder = copy_fit(saved, "pair", tmp_path, version=2)
    outside = tmp_path / "outside_datasets"
    shutil.move(folder / "datasets", outside)
    (folder / "datasets").symlink_to(outside, target_is_directory=True)
    with pytest.raises(
        gf.ResultLoadError,
        match=rf"': 'datasets' resolves to '{re.escape(str(outside))}', outside the result",
    ):
        gf.load_result(folder)


def test_a_metadata_file_symlinked_outside_is_refused_and_skipped(saved, tmp_path):
    folder = copy_fit(saved, "pair", tmp_path)
    target = outside_copy(saved, tmp_path, METADATA)
    (folder / METADATA).unlink()
    (folder / METADATA).symlink_to(target)
    message = rf"': 'graphfit\.json' resolves to '{re.escape(str(target))}', outside the result"
    with pytest.raises(gf.ResultLoadError, match=message):
        gf.load_result(folder)
    assert "resolves to" in gf.Aggregator(tmp_path / "root").skipped[str(folder)]


def test_a_symlink_loop_is_refused(saved, tmp_path):
    folder = copy_fit(saved, "pair", tmp_path)
    (folder / "joint.nc").unlink()
    (folder / "joint.nc").symlink_to(folder / "joint.nc")
    with pytest.raises(gf.ResultLoadError, match=r"': 'joint\.nc' could not be resolved \("):
        gf.load_result(folder)


# -- contents against the identifier ------------------------------------------------------------

MISMATCH = (
    r"{file}' does not match the SHA-256 saved for it in graphfit\.json: the file was changed, "
    r"damaged or copied from another fit after this fit was saved\. Delete the result folder "
    r"and fit again\.$"
)


def test_the_joint_file_of_a_two_dataset_fit_under_a_three_dataset_graph_is_refused(
    saved, tmp_path
):
    folder = copy_fit(saved, "triple", tmp_path)
    shutil.copy(saved[1]["pair"].output_folder / "joint.nc", folder / "joint.nc")
    message = MISMATCH.format(file=r"joint\.nc")
    with pytest.raises(gf.ResultLoadError, match=message):
        gf.load_result(folder)
    with pytest.raises(gf.ResultLoadError, match=message):
        gf.load_result(folder, model=graph(TRIPLE))
    with pytest.raises(gf.ResultLoadError, match=message):
        fit(tmp_path / "root", "triple", TRIPLE)  # resuming
    with pytest.raises(gf.ResultLoadError, match=message):
        next(gf.Aggregator(tmp_path / "root").values("samples"))


def test_a_dataset_file_copied_from_another_fit_is_refused(saved, tmp_path):
    folder = copy_fit(saved, "triple", tmp_path, version=2)
    other = copy_fit(saved, "pair", tmp_path / "pair", version=2)
    shutil.copy(other / "datasets/0001.nc", folder / "datasets/0001.nc")
    loaded = gf.load_result(folder)  # dataset files are read (and checked) when first used
    assert loaded[0].idata.posterior.equals(saved[1]["triple"][0].idata.posterior)
    message = MISMATCH.format(file=r"datasets/0001\.nc")
    with pytest.raises(gf.ResultLoadError, match=message):
        loaded[1].idata
    with pytest.raises(gf.ResultLoadError, match=message):
        fit(tmp_path / "root", "triple", TRIPLE)  # resuming checks every file at once


def test_a_swapped_dataset_file_of_the_same_fit_is_refused(saved, tmp_path):
    folder = copy_fit(saved, "pair", tmp_path, version=2)
    shutil.copy(folder / "datasets/0000.nc", folder / "datasets/0001.nc")
    with pytest.raises(gf.ResultLoadError, match=MISMATCH.format(file=r"datasets/0001\.nc")):
        gf.load_result(folder)[1].idata


def test_an_edited_search_json_is_refused(saved, tmp_path):
    folder = copy_fit(saved, "pair", tmp_path)
    settings = json.loads((folder / "search.json").read_text())
    settings["n_random"] += 1
    (folder / "search.json").write_text(json.dumps(settings))
    message = (
        r"search\.json' does not match the search_hash in graphfit\.json \(part of the fit's "
        r"identifier\): it was changed or copied from another fit\. Delete the result folder "
        r"and fit again\.$"
    )
    with pytest.raises(gf.ResultLoadError, match=message):
        gf.load_result(folder)
    with pytest.raises(gf.ResultLoadError, match=message):
        next(gf.Aggregator(tmp_path / "root").values("search"))


def test_a_model_json_from_another_fit_is_refused(saved, tmp_path):
    folder = copy_fit(saved, "pair", tmp_path)
    model = json.loads((folder / "model.json").read_text())
    model["priors"] = model["priors"][::-1]
    (folder / "model.json").write_text(json.dumps(model))
    message = r"model\.json' does not match the model_hash in graphfit\.json"
    agg = gf.Aggregator(tmp_path / "root")
    with pytest.raises(gf.ResultLoadError, match=message):
        next(agg.values("model"))
    with pytest.raises(gf.ResultLoadError, match=message):
        next(agg.values("instance"))
    with pytest.raises(gf.ResultLoadError, match=MISMATCH.format(file=r"model\.json")):
        fit(tmp_path / "root", "pair", PAIR)  # resuming


def test_a_fit_moved_into_another_identifiers_folder_is_refused_on_resume(saved, tmp_path):
    root = tmp_path / "root"
    other, _ = fit_folder(search(root, "pair", random_seed=2), graph(PAIR))
    shutil.copytree(saved[1]["pair"].output_folder, other)
    saved_identifier = saved[1]["pair"].output_folder.name
    with pytest.raises(
        gf.ResultLoadError,
        match=rf"holds the fit with identifier '{saved_identifier}', not '{other.name}': it was "
        r"moved or copied here from another fit\. Delete the folder to fit again\.$",
    ):
        fit(root, "pair", PAIR, random_seed=2)
    assert gf.load_result(other).names == ["dataset_0", "dataset_1"]  # a renamed copy loads


def test_a_folder_saved_without_hashes_loads_and_resumes(saved, tmp_path):
    """Folders written before the hashes existed (format version 1) are read with the hash
    checks skipped."""
    folder = copy_fit(saved, "pair", tmp_path, version=2)
    edit_metadata(
        folder, lambda m: [m.pop(FILE_HASHES), m.pop(METADATA_HASH), m.update(format_version=1)]
    )
    loaded = gf.load_result(folder)
    assert loaded[1].idata.posterior.equals(saved[1]["pair"][1].idata.posterior)
    with pytest.warns(ResumedFitWarning, match="loaded the finished fit"):
        again = fit(tmp_path / "root", "pair", PAIR)
    assert again.resumed and again.output_folder == folder


def test_a_current_folder_with_its_hashes_removed_is_refused(saved, tmp_path):
    folder = copy_fit(saved, "pair", tmp_path)
    edit_metadata(folder, lambda m: [m.pop(FILE_HASHES), m.pop(METADATA_HASH)])
    with pytest.raises(
        gf.ResultLoadError,
        match=rf"graphfit\.json' is in result format version {FORMAT_VERSION}, whose folders hold "
        r"the SHA-256 of "
        r"their files and metadata \(sha256, metadata_sha256\), but it has neither: they were "
        r"removed\. Delete the result folder and fit again\.$",
    ):
        gf.load_result(folder)


def test_hashes_without_the_metadata_hash_are_refused(saved, tmp_path):
    folder = copy_fit(saved, "pair", tmp_path)
    edit_metadata(folder, lambda m: m.pop(METADATA_HASH))
    with pytest.raises(
        gf.ResultLoadError,
        match=r"graphfit\.json' is not a valid result description: it has no metadata_sha256 "
        r"entry, which graphfit writes together with sha256\.",
    ):
        gf.load_result(folder)


# -- the metadata -------------------------------------------------------------------------------

CHANGED = (
    r"graphfit\.json' was changed after the fit was saved: its fields do not match its "
    r"metadata_sha256 \(an edited figure, dataset name, label or file hash\)\. Delete the "
    r"result folder and fit again\.$"
)


def set_median(metadata):
    metadata["parameters"]["centre"]["median"] += 10.0


def rename_dataset(metadata):
    metadata["datasets"][1] = "night_9"


def swap_datasets(metadata):
    metadata["datasets"].reverse()


def drop_file_hash(metadata):
    del metadata[FILE_HASHES]["joint.nc"]


@pytest.mark.parametrize("edit", [set_median, rename_dataset, swap_datasets, drop_file_hash])
def test_an_edited_metadata_field_is_detected(saved, tmp_path, edit):
    folder = copy_fit(saved, "pair", tmp_path)
    other = copy_fit(saved, "triple", tmp_path)
    edit_metadata(folder, edit)
    with pytest.raises(gf.ResultLoadError, match=CHANGED):
        gf.load_result(folder)
    agg = gf.Aggregator(tmp_path / "root")
    assert agg.paths == [other]  # the good fit is listed, the edited one skipped
    assert list(agg.skipped) == [str(folder)]
    assert "was changed after the fit was saved" in agg.skipped[str(folder)]


def test_an_edited_identifier_is_detected(saved, tmp_path):
    folder = copy_fit(saved, "pair", tmp_path)
    edit_metadata(folder, lambda m: m.__setitem__("identifier", "0" * 16), reseal=True)
    with pytest.raises(
        gf.ResultLoadError,
        match=r"graphfit\.json': identifier '0000000000000000' is not the hash of its "
        r"model_hash, data_hash and search_hash \('[0-9a-f]{16}'\): the file was edited\.",
    ):
        gf.load_result(folder)


def entry(key, value):
    return lambda metadata: metadata.__setitem__(key, value)


def figure(label, key, value):
    return lambda metadata: metadata["parameters"][label].__setitem__(key, value)


def without(key):
    return lambda metadata: metadata.pop(key)


def diagnostics(value):
    return entry("diagnostics", value)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (entry("datasets", "dataset_0"), r"datasets must be a non-empty list of distinct "
         r"strings, got 'dataset_0'"),
        (entry("datasets", ["a", "a"]), r"datasets must be a non-empty list of distinct "
         r"strings, got \['a', 'a'\]"),
        (entry("dataset_files", {"0": "x"}), r"dataset_files must be a list of strings"),
        (entry("timings", "fast"), r"timings must be an object of numbers, got 'fast'"),
        (entry("single", "no"), r"single must be true or false, got 'no'"),
        (entry("identifier", 12), r"identifier must be 16 hex digits, got 12"),
        (entry("name", ["fit"]), r"name must be a string or null, got \['fit'\]"),
        (entry("parameters", []), r"parameters must be an object of parameters, got \[\]"),
        (entry(FILE_HASHES, {"joint.nc": 1}), r"sha256 must be an object of 64-hex-digit "
         r"strings"),
        (figure("centre", "median", "50"), r"parameters\['centre'\]\['median'\] must be a "
         r"number or null, got '50'"),
        (entry("parameters", {"centre": 5}), r"parameters\['centre'\] must be an object of "
         r"figures, got 5"),
        (diagnostics({"divergences": "0", "problems": []}), r"diagnostics\['divergences'\] "
         r"must be an integer, got '0'"),
        (diagnostics({"divergences": 0}), r"diagnostics\['problems'\] is missing"),
        (diagnostics({"divergences": 0, "problems": [], "max_r_hat": "1.0"}),
         r"diagnostics\['max_r_hat'\] must be a number or null, got '1\.0'"),
        (without("loglike_names"), r"loglike_names is missing"),
        (entry("split", []), r"it holds 0 split entries for 2 datasets \(one per dataset "
         r"builds its view of joint\.nc\)\. Delete the result folder and fit again\.$"),
        (without("split"), r"it holds no split entries for 2 datasets"),
        (entry("split", [{"node": 1}]), r"split must be a list of split entries \(vars, node, "
         r"dims, select\), got \[\{'node': 1\}\]"),
    ],
)  # fmt: skip
def test_a_wrong_json_type_is_a_result_load_error_and_skipped(saved, tmp_path, edit, message):
    folder = copy_fit(saved, "pair", tmp_path)
    other = copy_fit(saved, "triple", tmp_path)
    edit_metadata(folder, edit)
    with pytest.raises(gf.ResultLoadError, match=r"graphfit\.json' is not a valid result "
                       rf"description: {message}") as error:  # fmt: skip
        gf.load_result(folder)
    assert type(error.value) is gf.ResultLoadError  # never a raw ValueError, KeyError, ...
    agg = gf.Aggregator(tmp_path / "root")
    assert agg.paths == [other] and list(agg.skipped) == [str(folder)]
    assert agg.skipped[str(folder)] == str(error.value)
    assert list(agg.values("search", parser=lambda s: s["search"])) == ["MAP"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"format": "graphfit-result", "median": NaN}', r"is not valid JSON \(NaN is not a JSON "
         r"number\)"),
        ('{"format": "graphfit-result", "median": 1e999}', r"is not valid JSON \(1e999 is not a "
         r"finite number\)"),
        ("[" * 100_000 + "]" * 100_000, r"is not valid JSON \(maximum recursion depth"),
        ("[1, 2]", r"is not a graphfit result description"),
        ('{"format": "graphfit-result", "format_version": "1"}', r"was written in result format "
         r"version '1'"),
    ],
)  # fmt: skip
def test_a_metadata_file_that_is_not_a_description_is_skipped(saved, tmp_path, text, message):
    folder = copy_fit(saved, "pair", tmp_path)
    (folder / METADATA).write_text(text)
    with pytest.raises(gf.ResultLoadError, match=message):
        gf.load_result(folder)
    agg = gf.Aggregator(tmp_path / "root")
    assert len(agg) == 0 and list(agg.skipped) == [str(folder)]


def test_an_unreadable_metadata_file_is_skipped(saved, tmp_path):
    folder = copy_fit(saved, "pair", tmp_path)
    (folder / METADATA).write_bytes(b"\xff\xfe not utf-8")
    with pytest.raises(gf.ResultLoadError, match=r"graphfit\.json' could not be read \("):
        gf.load_result(folder)
    assert list(gf.Aggregator(tmp_path / "root").skipped) == [str(folder)]
