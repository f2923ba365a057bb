"""Write this stack's saved fit: ``python -m tests.saved_fits`` from the repository root."""

import pathlib
import shutil
import warnings

from tests.saved_fits import STACK_FOLDER, fit

if __name__ == "__main__":
    folder = pathlib.Path(__file__).parent / STACK_FOLDER
    shutil.rmtree(folder, ignore_errors=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a short run: its convergence warnings are expected
        result_list = fit(folder)
    # git ignores PNG files, and loading a fit does not read its plots
    shutil.rmtree(result_list.output_folder / "plots")
    print(f"wrote {result_list.output_folder}")
