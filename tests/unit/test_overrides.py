"""Overrides fail loudly: ``kalamna.di.make_container`` (and so ``memory_container``) refuses a provider
that declares ``override=True`` but replaces nothing, and one that replaces a production factory without
declaring it; the decorators of ``MetricsProvider`` only work registered after what they decorate."""

from __future__ import annotations

from pathlib import Path

import pytest
from dishka import Provider, Scope, make_async_container
from dishka.exceptions import GraphMissingFactoryError, ImplicitOverrideDetectedError, NothingOverriddenError

import kalamna.di
from kalamna.adapters.memory.security import FixedClock
from kalamna.config import Settings
from kalamna.di.instrumentation import MetricsProvider
from kalamna.ports.security import Clock
from tests.conftest import PRODUCTION_PROVIDERS
from tests.unit.container import memory_container, unit_settings


class Unprovided:
    """A type no production provider gives."""


def replacing(port: type, instance: object, *, override: bool) -> Provider:
    provider = Provider(scope=Scope.APP)
    provider.provide(lambda: instance, provides=port, override=override)
    return provider


def test_an_override_that_replaces_nothing_raises_naming_the_type(tmp_path: Path) -> None:
    settings = unit_settings(tmp_path)
    with pytest.raises(NothingOverriddenError, match="Unprovided"):
        kalamna.di.make_container(settings, replacing(Unprovided, Unprovided(), override=True))
    with pytest.raises(NothingOverriddenError, match="Unprovided"):
        memory_container(settings, replacing(Unprovided, Unprovided(), override=True))


def test_an_undeclared_override_raises_naming_the_type(tmp_path: Path) -> None:
    with pytest.raises(ImplicitOverrideDetectedError, match="Clock"):
        kalamna.di.make_container(unit_settings(tmp_path), replacing(Clock, FixedClock(), override=False))


async def test_a_declared_override_replaces_the_production_factory(tmp_path: Path) -> None:
    clock = FixedClock()
    container = kalamna.di.make_container(unit_settings(tmp_path), replacing(Clock, clock, override=True))
    try:
        assert await container.get(Clock) is clock
    finally:
        await container.close()


def test_the_production_providers_give_each_type_once_and_decorate_last(tmp_path: Path) -> None:
    providers = PRODUCTION_PROVIDERS["providers"]()  # without the tests' cheap hasher
    assert isinstance(providers[-1], MetricsProvider)
    context = {Settings: unit_settings(tmp_path)}
    checked = kalamna.di.OVERRIDES_CHECKED
    make_async_container(*providers, context=context, validation_settings=checked)  # builds
    with pytest.raises(GraphMissingFactoryError, match="ChatModel"):
        make_async_container(providers[-1], *providers[:-1], context=context, validation_settings=checked)
