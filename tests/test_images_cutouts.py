"""Cutouts from FITS frames: per-band WCS alignment, edges, bad pixels, RGB and files.

The frames are written at test time: three bands with TAN WCSs at 0.396"/px whose
CRPIX and CRVAL differ by a few pixels and fractions of one, so a source sits at a
different pixel position in every band, as in SDSS fields. Sources are circular
Gaussians placed at known (RA, Dec) through each band's own WCS.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from astropy.io import fits
from astropy.visualization import make_lupton_rgb
from astropy.wcs import WCS

from conftest import shared_path
from skyclass.exceptions import DataError
from skyclass.images.cut import cut_from_frames
from skyclass.images.cutouts import Cutouts, read_cutouts
from skyclass.images.frames import read_frame
from skyclass.images.rgb import lupton_rgb
from skyclass.images.stamps import load_stamps

SCALE = 0.396 / 3600  # SDSS pixel, degrees
RA0, DEC0 = 180.0, 10.0
SHAPE = (300, 300)  # (H, W)
SIZE = 50
CENTRE = (SIZE - 1) / 2
# band: (CRPIX, CRVAL shift in pixels along RA and Dec)
BAND_WCS = {
    "g": ((150.5, 150.5), (0.0, 0.0)),
    "r": ((153.8, 147.3), (0.45, 0.0)),
    "i": ((146.35, 155.6), (0.0, -1.7)),
}


def band_wcs(band: str) -> WCS:
    (crpix, (sx, sy)) = BAND_WCS[band]
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crpix = list(crpix)
    wcs.wcs.crval = [RA0 + sx * SCALE / np.cos(np.radians(DEC0)), DEC0 + sy * SCALE]
    wcs.wcs.cdelt = [-SCALE, SCALE]
    return wcs


def sky(x_g: float, y_g: float) -> tuple[float, float]:
    """(RA, Dec) of 0-based pixel (x, y) of the g frame."""
    ra, dec = band_wcs("g").pixel_to_world_values(x_g, y_g)
    return float(ra), float(dec)


def pixels(band: str, ra: float, dec: float) -> tuple[float, float]:
    x, y = band_wcs(band).world_to_pixel_values(ra, dec)
    return float(x), float(y)


def render(band: str, sources: list[dict], shape=SHAPE) -> np.ndarray:
    y, x = np.mgrid[: shape[0], : shape[1]]
    img = np.zeros(shape)
    for s in sources:
        px, py = pixels(band, s["ra"], s["dec"])
        flux = s.get("flux", {}).get(band, 100.0)
        sigma = s.get("sigma", 1.3)
        img += flux * np.exp(-((x - px) ** 2 + (y - py) ** 2) / (2 * sigma**2))
    return img


def write_frames(
    tmp_path, sources, *, bands="gri", shapes=None, saturate=None, edit=None, wcs=True
) -> dict[str, str]:
    paths = {}
    for band in bands:
        shape = (shapes or {}).get(band, SHAPE)
        data = render(band, sources, shape)
        if edit:
            edit(band, data)
        header = band_wcs(band).to_header() if wcs else fits.Header()
        header["FILTER"] = band
        if saturate is not None:
            header["SATURATE"] = saturate
        path = tmp_path / f"frame-{band}.fits"
        fits.PrimaryHDU(data.astype(np.float32), header=header).writeto(path, overwrite=True)
        paths[band] = str(path)
    return paths


def catalog(sources) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "object_id": [s["id"] for s in sources],
            "ra": [s["ra"] for s in sources],
            "dec": [s["dec"] for s in sources],
        }
    )


def source(name: str, x_g: float, y_g: float, **kw) -> dict:
    ra, dec = sky(x_g, y_g)
    return {"id": name, "ra": ra, "dec": dec, **kw}


def centroid(stamp: np.ndarray) -> tuple[float, float]:
    """Flux-weighted (x, y) centroid of a stamp, in stamp pixels."""
    w = np.nan_to_num(stamp)
    y, x = np.mgrid[: stamp.shape[0], : stamp.shape[1]]
    return float((w * x).sum() / w.sum()), float((w * y).sum() / w.sum())


INSIDE = [
    source("a", 80.3, 90.7),
    source("b", 150.0, 150.0),
    source("c", 210.55, 70.2),
    source("d", 95.81, 215.46),
    source("e", 220.1, 220.9),
]


@pytest.fixture
def inside_frames(tmp_path):
    return write_frames(tmp_path, INSIDE)


# ------------------------------------------------------------ alignment
def test_bands_really_sit_at_different_pixels():
    # Without per-band WCS the same pixel would be cut in every band: >2 px off.
    for s in INSIDE:
        pos = np.array([pixels(b, s["ra"], s["dec"]) for b in "gri"])
        assert np.ptp(pos[:, 0]) > 2 or np.ptp(pos[:, 1]) > 2
        assert np.any(np.abs(pos - np.round(pos)) > 0.2)  # and fractional shifts


def test_centroid_at_stamp_centre_in_every_band(inside_frames):
    cut = cut_from_frames(inside_frames, catalog(INSIDE))
    assert len(cut) == len(INSIDE) and not cut.skipped
    assert cut.stamps.shape == (5, 3, SIZE, SIZE) and cut.stamps.dtype == np.float32
    assert cut.bands == ("g", "r", "i")
    for n in range(len(cut)):
        for k in range(3):
            cx, cy = centroid(cut.stamps[n, k])
            assert abs(cx - CENTRE) < 0.5 and abs(cy - CENTRE) < 0.5
            assert abs(cx - CENTRE) < 0.05 and abs(cy - CENTRE) < 0.05  # sub-pixel shift
    assert not cut.flags["flagged"].any()
    np.testing.assert_allclose(cut.flags[["offset_x", "offset_y"]], 0.0, atol=1e-9)


def test_round_keeps_pixels_and_records_offsets(inside_frames):
    cut = cut_from_frames(inside_frames, catalog(INSIDE), align="round")
    frames = {b: fits.getdata(p).astype(np.float64) for b, p in inside_frames.items()}
    for n, s in enumerate(INSIDE):
        offsets = []
        for k, band in enumerate(cut.bands):
            x, y = pixels(band, s["ra"], s["dec"])
            x0, y0 = int(np.floor(x - CENTRE + 0.5)), int(np.floor(y - CENTRE + 0.5))
            np.testing.assert_array_equal(
                cut.stamps[n, k], frames[band][y0 : y0 + SIZE, x0 : x0 + SIZE]
            )
            cx, cy = centroid(cut.stamps[n, k])
            ox, oy = x - x0 - CENTRE, y - y0 - CENTRE
            assert abs(ox) <= 0.5 and abs(oy) <= 0.5
            assert cx - CENTRE == pytest.approx(ox, abs=0.02)
            assert cy - CENTRE == pytest.approx(oy, abs=0.02)
            offsets.append((ox, oy))
        row = cut.flags.iloc[n]
        assert row["offset_x"] == pytest.approx(np.mean(offsets, axis=0)[0], abs=1e-6)
        assert row["max_offset"] == pytest.approx(np.hypot(*np.transpose(offsets)).max())


def test_bands_of_different_shapes_are_cut_in_their_own_grids(tmp_path):
    paths = write_frames(tmp_path, INSIDE, shapes={"i": (280, 320), "g": (310, 290)})
    cut = cut_from_frames(paths, catalog(INSIDE))
    assert len(cut) == len(INSIDE)
    for n in range(len(cut)):
        for k in range(3):
            cx, cy = centroid(cut.stamps[n, k])
            assert abs(cx - CENTRE) < 0.05 and abs(cy - CENTRE) < 0.05


# ------------------------------------------------------------ edges
def near_left_edge(distance: float, y_g: float = 150.0) -> dict:
    """A source whose smallest x over the three bands is ``distance`` px."""
    probe = source("probe", 100.0, y_g)
    least = min(pixels(b, probe["ra"], probe["dec"])[0] for b in "gri")
    return source("edge", 100.0 + distance - least, y_g)


def test_shrink_is_the_papers_rule(tmp_path):
    near, far = near_left_edge(3.0), near_left_edge(30.0, y_g=60.0)
    far["id"] = "far"
    paths = write_frames(tmp_path, [near, far])
    cut = cut_from_frames(paths, catalog([near, far]))
    flags = cut.flags.set_index("object_id")
    # a0 = 25 replaced by the distance to the edge (3 px + half a pixel): a 7-px box
    assert flags.loc["edge", "edge"] and flags.loc["edge", "flagged"]
    assert flags.loc["edge", "scale"] == pytest.approx(7.0 / SIZE)
    assert not flags.loc["far", "edge"] and flags.loc["far", "scale"] == 1.0
    assert cut.stamps.shape[-2:] == (SIZE, SIZE)
    for k in range(3):  # still centred, in stamp pixels
        cx, cy = centroid(cut.stamps[0, k])
        assert abs(cx - CENTRE) < 0.5 and abs(cy - CENTRE) < 0.5


def test_shift_moves_the_box_inside_and_records_the_offset(tmp_path):
    near = near_left_edge(3.0)
    paths = write_frames(tmp_path, [near])
    cut = cut_from_frames(paths, catalog([near]), edge="shift")
    row = cut.flags.iloc[0]
    assert row["edge"] and row["scale"] == 1.0
    assert row["offset_x"] == pytest.approx(3.0 - (SIZE / 2 - 0.5))  # box starts at the edge
    assert row["offset_y"] == pytest.approx(0.0, abs=1e-9)
    for k in range(3):
        cx, cy = centroid(cut.stamps[0, k])
        assert cx - CENTRE == pytest.approx(row["offset_x"], abs=0.1)
        assert abs(cy - CENTRE) < 0.05


def test_pad_keeps_the_source_centred_and_counts_padding(tmp_path):
    near = near_left_edge(3.0)
    paths = write_frames(tmp_path, [near])
    cut = cut_from_frames(paths, catalog([near]), edge="pad", fill=0.0)
    row = cut.flags.iloc[0]
    outside = [int(np.sum(x + np.arange(SIZE) - CENTRE < -0.5)) for x in row[["x_g", "x_r", "x_i"]]]
    assert row["edge"] and row["n_pad"] == SIZE * sum(outside) and min(outside) >= 13
    for k in range(3):
        assert np.all(cut.stamps[0, k, :, : outside[k]] == 0.0)
        cx, cy = centroid(cut.stamps[0, k])
        assert abs(cx - CENTRE) < 0.5 and abs(cy - CENTRE) < 0.05


def test_off_frame_sources_are_skipped_and_counted(tmp_path):
    outside = source("out", -40.0, 100.0)
    partly = source("p", 0.3, 120.0)  # on the g frame; the i frame is shifted ~4 px left
    sources = [*INSIDE[:2], outside, partly, INSIDE[0]]
    paths = write_frames(tmp_path, INSIDE[:2])
    off = [b for b in "gri" if pixels(b, partly["ra"], partly["dec"])[0] < -0.5]
    assert off == ["i"]
    cut = cut_from_frames(paths, catalog(sources))
    assert cut.ids.tolist() == ["a", "b"]
    assert cut.skipped == (
        ("out", "off frame (bands g, r, i)"),
        ("p", "off frame (band i)"),
        ("a", "duplicate object_id (the first row was cut)"),
    )
    assert cut.summary()["skipped"] == {"off frame": 2, "duplicate object_id": 1}
    assert "3 skipped (off frame: 2, duplicate object_id: 1)" in str(cut)


# ------------------------------------------------------------ bad input
def test_frame_without_wcs_is_a_data_error_naming_file_and_fix(tmp_path):
    paths = write_frames(tmp_path, INSIDE[:1])
    fits.PrimaryHDU(np.zeros((20, 20), np.float32)).writeto(tmp_path / "nowcs.fits")
    paths["r"] = str(tmp_path / "nowcs.fits")
    with pytest.raises(DataError, match=r"nowcs\.fits.*no celestial WCS.*solve-field"):
        cut_from_frames(paths, catalog(INSIDE[:1]))


def test_missing_band_is_a_data_error(tmp_path):
    paths = write_frames(tmp_path, INSIDE[:1])
    with pytest.raises(DataError, match=r"missing \['i'\].*rgb=False"):
        cut_from_frames({b: paths[b] for b in "gr"}, catalog(INSIDE[:1]))
    with pytest.raises(DataError, match=r"no frame for band\(s\) \['z'\]"):
        cut_from_frames(paths, catalog(INSIDE[:1]), bands=("g", "r", "z"))
    cut = cut_from_frames({b: paths[b] for b in "gr"}, catalog(INSIDE[:1]), rgb=False)
    assert cut.bands == ("g", "r") and cut.rgb is None


def test_bands_from_filter_keyword_and_csv_catalogue_aliases(tmp_path):
    paths = write_frames(tmp_path, INSIDE[:2])
    table = catalog(INSIDE[:2]).rename(columns={"object_id": "objID", "ra": "RA", "dec": "DEC"})
    table["class"] = ["STAR", "GALAXY"]
    table.to_csv(tmp_path / "cat.csv", index=False)
    before = table.copy()
    cut = cut_from_frames([paths["i"], paths["g"], paths["r"]], tmp_path / "cat.csv")
    assert cut.bands == ("g", "r", "i")  # ugriz order, whatever the order given
    assert cut.ids.tolist() == ["a", "b"] and cut.labels.tolist() == ["STAR", "GALAXY"]
    cut_df = cut_from_frames(paths, table)
    pd.testing.assert_frame_equal(table, before)  # input not mutated
    np.testing.assert_array_equal(cut_df.stamps, cut.stamps)

    fits.PrimaryHDU(np.zeros((20, 20)), header=band_wcs("g").to_header()).writeto(
        tmp_path / "nofilter.fits"
    )
    with pytest.raises(DataError, match=r"no FILTER keyword.*mapping"):
        read_frame(tmp_path / "nofilter.fits")
    assert read_frame(tmp_path / "nofilter.fits", band="g").band == "g"


def test_nan_pixels_are_counted_and_do_not_spread(tmp_path):
    def add_nan(band, data):
        if band == "r":
            x, y = pixels("r", INSIDE[1]["ra"], INSIDE[1]["dec"])
            data[round(y) + 6 : round(y) + 9, round(x) - 10 : round(x) - 7] = np.nan

    paths = write_frames(tmp_path, INSIDE[:3], edit=add_nan)
    for align in ("shift", "round"):
        cut = cut_from_frames(paths, catalog(INSIDE[:3]), align=align)
        assert cut.flags["n_nan"].tolist() == [0, 9, 0]
        assert cut.flags["flagged"].tolist() == [False, True, False]
        assert np.isnan(cut.stamps[1, 1]).sum() == 9  # spline did not smear the NaN
        assert np.isfinite(cut.stamps[[0, 2]]).all() and np.isfinite(cut.stamps[1, [0, 2]]).all()
        assert cut.rgb.dtype == np.uint8
    assert cut.summary()["flagged"] == {"nan": 1}


def test_saturated_core_is_flagged(tmp_path):
    sources = [dict(INSIDE[0], flux={b: 1000.0 for b in "gri"}), INSIDE[1]]
    paths = write_frames(tmp_path, sources, saturate=500.0)
    cut = cut_from_frames(paths, catalog(sources))
    assert cut.flags["saturated"].tolist() == [True, False]
    assert cut.flags["n_saturated"].iloc[0] > 0 and cut.meta["saturation"]["g"] == 500.0
    assert cut_from_frames(paths, catalog(sources), saturation=1e6).flags["saturated"].sum() == 0
    lower = cut_from_frames(paths, catalog(sources), saturation={"g": 50.0, "r": 1e6, "i": 1e6})
    assert lower.flags["saturated"].tolist() == [True, True]


# ------------------------------------------------------------ RGB
def test_lupton_rgb_maps_i_r_g_to_red_green_blue(tmp_path):
    red = dict(INSIDE[0], flux={"g": 0.0, "r": 0.0, "i": 50.0})
    blue = dict(INSIDE[1], flux={"g": 50.0, "r": 0.0, "i": 0.0})
    paths = write_frames(tmp_path, [red, blue])
    cut = cut_from_frames(paths, catalog([red, blue]))
    assert cut.rgb.shape == (2, SIZE, SIZE, 3) and cut.rgb.dtype == np.uint8
    c = SIZE // 2
    assert cut.rgb[0, c, c, 0] > 100 and cut.rgb[0, c, c, 1:].max() == 0
    assert cut.rgb[1, c, c, 2] > 100 and cut.rgb[1, c, c, :2].max() == 0
    # the batch gives astropy's image, one stamp at a time
    for n in range(2):
        i, r, g = (cut.stamps[n, cut.bands.index(b)] for b in "irg")
        expected = make_lupton_rgb(i, r, g, minimum=0.0, stretch=0.5, Q=10.0)
        np.testing.assert_array_equal(cut.rgb[n], expected)
    other = lupton_rgb(*(cut.stamps[:, cut.bands.index(b)] for b in "irg"), stretch=5.0, Q=8.0)
    assert not np.array_equal(other, cut.rgb)


# ------------------------------------------------------------ files
def assert_same(a: Cutouts, b: Cutouts) -> None:
    np.testing.assert_array_equal(a.ids, b.ids)
    np.testing.assert_array_equal(a.ra, b.ra)
    np.testing.assert_array_equal(a.dec, b.dec)
    assert a.bands == b.bands
    np.testing.assert_array_equal(a.stamps, b.stamps)
    assert a.stamps.dtype == b.stamps.dtype == np.float32
    np.testing.assert_array_equal(a.rgb, b.rgb)
    assert b.rgb.dtype == np.uint8
    np.testing.assert_array_equal(a.labels, b.labels)
    pd.testing.assert_frame_equal(a.flags, b.flags)
    assert a.skipped == b.skipped
    assert dict(a.meta) == dict(b.meta)


@pytest.mark.parametrize("suffix", [".npz", ".parquet"])
def test_file_round_trip(tmp_path, suffix):
    def add_nan(band, data):
        data[10:20, 10:20] = np.nan

    sources = [*INSIDE, source("out", -40.0, 100.0), near_left_edge(3.0)]
    sources[1]["id"] = "b"
    paths = write_frames(tmp_path, sources, edit=add_nan)
    table = catalog(sources).assign(label=[0, 1, 2, 0, 1, 2, 0])
    cut = cut_from_frames(paths, table)
    assert len(cut) == 6 and len(cut.skipped) == 1 and cut.flags["edge"].sum() == 1
    path = cut.write(tmp_path / f"stamps{suffix}")
    assert_same(cut, read_cutouts(path))
    if suffix == ".npz":
        with np.load(path, allow_pickle=False) as z:  # nothing needs unpickling
            assert z["stamps"].shape == (6, 3, SIZE, SIZE)
    else:
        assert pq.read_table(path).num_rows == 6  # one row per stamp
    with pytest.raises(DataError, match="name it .npz or .parquet"):
        cut.write(tmp_path / "stamps.fits")


def test_empty_cutouts_round_trip(tmp_path):
    paths = write_frames(tmp_path, INSIDE[:1])
    cut = cut_from_frames(paths, catalog([source("out", -40.0, 100.0)]))
    assert len(cut) == 0 and cut.rgb.shape == (0, SIZE, SIZE, 3)
    for suffix in (".npz", ".parquet"):
        assert_same(cut, read_cutouts(cut.write(tmp_path / f"empty{suffix}")))


# ------------------------------------------------------------ ready-made stamps
def test_load_stamps_channels_last_flux(tmp_path):
    rng = np.random.default_rng(3)
    images = rng.normal(0.0, 0.1, size=(4, 16, 16, 3)).astype(np.float32)
    np.save(tmp_path / "set_images.npy", images)
    np.save(tmp_path / "set_labels.npy", np.array(["QSO", "STAR", "GALAXY", "STAR"]))
    cut = load_stamps(tmp_path)
    assert cut.stamps.shape == (4, 3, 16, 16) and cut.bands == ("g", "r", "i")
    np.testing.assert_array_equal(cut.stamps[:, 1], images[..., 1])
    assert cut.meta["units"] == "flux" and cut.labels.tolist()[0] == "QSO"
    assert cut.rgb.shape == (4, 16, 16, 3)
    np.save(tmp_path / "odd_images.npy", np.zeros((2, 4, 8, 8), np.float32))
    with pytest.raises(DataError, match="4 channels"):
        load_stamps(tmp_path / "odd_images.npy")


@pytest.mark.realdata
def test_sdss_smoke_stamps_load(shared_data):
    folder = shared_path(shared_data, "sdss_cutouts_smoke")
    cut = load_stamps(folder, label_names={-1: "star", 1: "galaxy"})
    assert len(cut) == 20 and cut.stamps.shape == (20, 5, 48, 48)
    assert cut.bands == ("u", "g", "r", "i", "z") and cut.meta["units"] == "mag"
    raw = np.load(folder / "sdss_test_labels.npy")
    assert cut.labels.tolist() == ["galaxy" if v > 0 else "star" for v in raw]
    assert (cut.labels == "galaxy").sum() == 5 and (cut.labels == "star").sum() == 15
    assert cut.rgb.shape == (20, 48, 48, 3) and cut.rgb.dtype == np.uint8
    assert cut.rgb.max() > 0
    assert len(set(cut.ids)) == 20


# ------------------------------------------------------------------ CLI
def test_cli_cuts_stamps_from_band_named_frames(tmp_path):
    from typer.testing import CliRunner

    from skyclass.cli import app

    paths = write_frames(tmp_path, [*INSIDE, source("far", 5000.0, 5000.0)])
    catalog([*INSIDE, source("far", 5000.0, 5000.0)]).to_csv(tmp_path / "cat.csv", index=False)
    out = tmp_path / "stamps.npz"
    args = ["cutouts", *[f"{b}={p}" for b, p in paths.items()], "--catalog"]
    result = CliRunner().invoke(app, [*args, str(tmp_path / "cat.csv"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "5 stamps" in result.output and "skipped far" in result.output
    assert read_cutouts(out).stamps.shape == (5, 3, 50, 50)


def test_names_that_lived_in_cutouts_are_still_importable_from_it_and_from_images():
    import skyclass.images
    import skyclass.images.cutouts as old
    from skyclass.images import cut, frames, rgb, stamps

    homes = {
        "cut_from_frames": cut,
        "EDGE_MODES": cut,
        "ALIGN_MODES": cut,
        "CATALOG_ALIASES": cut,
        "Frame": frames,
        "read_frame": frames,
        "lupton_rgb": rgb,
        "RGB_BANDS": rgb,
        "load_stamps": stamps,
    }
    for name, home in homes.items():
        assert getattr(old, name) is getattr(home, name)
    for name in skyclass.images.__all__:
        assert getattr(skyclass.images, name) is not None
    with pytest.raises(AttributeError):
        old.no_such_name  # noqa: B018


def test_default_flags_have_the_dtypes_every_cutouts_declares():
    from skyclass.images.cutouts import FLAG_DTYPES

    c = Cutouts(ids=["a"], ra=[1.0], dec=[2.0], bands=("r",), stamps=np.zeros((1, 1, 2, 2)))
    assert list(c.flags.columns) == list(FLAG_DTYPES)
    assert all(c.flags[k].dtype == d for k, d in FLAG_DTYPES.items() if k != "object_id")
