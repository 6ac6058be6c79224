"""In ganzoo a SOURCE is a model (preset, run folder or export bundle, see `ganzoo.sources`):
the data package calls what it loads `data`, `data_a`, `data_b` (as `--data`, `--data-b`)."""

import importlib
import inspect
import pkgutil

import pytest

import ganzoo.data


def source_named_parameters(function):
    """The names of `function`'s parameters that start with "source"."""
    return [name for name in inspect.signature(function).parameters
            if name.lower().startswith("source")]


PUBLIC_FUNCTIONS = [name for name in ganzoo.data.__all__
                    if inspect.isfunction(getattr(ganzoo.data, name))]


@pytest.mark.parametrize("name", PUBLIC_FUNCTIONS)
def test_public_functions_take_data_not_source(name):
    function = getattr(ganzoo.data, name)
    assert source_named_parameters(function) == [], (
        f"ganzoo.data.{name}{inspect.signature(function)}: call the dataset `data` "
        f"(`data_a`, `data_b`); SOURCE means a model in ganzoo"
    )


def test_the_public_api_holds_the_loaders():
    # The test above must see the functions it is meant to check.
    assert {"load", "describe", "load_unpaired", "describe_unpaired", "load_super_resolution",
            "describe_super_resolution"} <= set(PUBLIC_FUNCTIONS)


DATA_MODULES = sorted(info.name for info in pkgutil.iter_modules(ganzoo.data.__path__))


@pytest.mark.parametrize("module_name", DATA_MODULES)
def test_helpers_take_data_not_source(module_name):
    module = importlib.import_module(f"ganzoo.data.{module_name}")
    offenders = {
        name: source_named_parameters(function)
        for name, function in vars(module).items()
        if inspect.isfunction(function) and function.__module__ == module.__name__
        and source_named_parameters(function)
    }
    assert offenders == {}, f"ganzoo.data.{module_name}: {offenders}"
