"""Images of several channels are read one channel at a time whatever holds them and whatever is detected:
planar RGB TIFFs of other programs, OME-Zarr c axes, and ``--channel`` for rods and chains as for spheres."""

import json

import numpy as np
import pandas as pd
import pytest
import tifffile

from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files.axes import file_axes, read_volumes
from napari_particle_detect.files.io import ZarrStack, read_image
from napari_particle_detect.synthetic.chains import benchmark_chain_config, synthesize_chains
from napari_particle_detect.synthetic.rods import benchmark_rod_config, synthesize_rods
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

from helpers import detect_channel_as_its_plane_alone

zarr = pytest.importorskip("zarr")

CPU = ("--device", "cpu")


def run_cli(capsys, *args):
    code = main(["-q", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def spheres(seed: int, size: int = 96) -> np.ndarray:
    return synthesize(benchmark_config("fluorescent", 0.4, (size, size)), seed=seed).image


def with_noise(image: np.ndarray, seed: int = 0) -> np.ndarray:
    """(2, Y, X): a channel of noise, then ``image``: frames of a stack would be detected in both."""
    noise = np.random.default_rng(seed).integers(0, int(image.max()), image.shape).astype(image.dtype)
    return np.stack([noise, image])


def write_ome_zarr(path, data: np.ndarray, axes: str) -> None:
    """An OME-Zarr 0.4 image of ``data`` whose axes are named ``axes`` (c typed "channel")."""
    group = zarr.open_group(str(path), mode="w")
    typed = {"c": "channel", "t": "time"}
    group.attrs["multiscales"] = [{
        "version": "0.4", "axes": [{"name": a, "type": typed.get(a, "space")} for a in axes],
        "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1.0] * len(axes)}]}]}]
    array = group.create_array("0", shape=data.shape, dtype=data.dtype)
    array[:] = data


def nothing_written(folder, stem: str) -> bool:
    return not any(p.name.startswith(stem) or p.name.startswith(f".{stem}") for p in folder.iterdir())


def test_planar_rgb_tiffs_are_refused_as_colour_and_read_one_channel_at_a_time(tmp_path):
    # Another program's RGB planes (tifffile's own shape description left out; tifffile's own planes are frames,
    # as it writes every stack of 3 or 4 frames so): a (T, 3, Y, X) series of them was refused as "give --axes
    # TZYX if it is a time series of volumes", which did not say how to read it.
    planes = np.stack([spheres(seed) for seed in range(3)])
    series = np.stack([planes, planes[::-1]])
    for name, data, axes in (("syx.tif", planes, "SYX"), ("tsyx.tif", series, "ISYX")):
        path = tmp_path / name
        tifffile.imwrite(path, data, photometric="rgb", planarconfig="separate", metadata=None)
        said = (f"{path}: looks like an RGB(A) image (axes {axes}, shape {'x'.join(map(str, data.shape))}: 3 samples "
                "per pixel); convert it to greyscale first, or give channel=N (--channel N), N from 0 to 2, to detect "
                "one")
        for lazy in (False, True):
            with pytest.raises(ParticleDetectError) as refused:
                read_image(path, lazy=lazy)
            assert str(refused.value).startswith(said) and "\n" not in str(refused.value), str(refused.value)
            assert np.array_equal(np.asarray(read_image(path, lazy=lazy, channel=1)), data[..., 1, :, :])
        with pytest.raises(ParticleDetectError, match=r"channel=3 \(--channel 3\), but it has 3 channels"):
            read_image(path, channel=3)
        assert file_axes(path, channel=2).channel == 2
    # --axes naming every axis reads the planes as they say, and the refusal says how.
    assert str(refused.value) == f"{said}, or --axes TZYX if its planes are volumes of 3 slices"
    assert np.array_equal(np.asarray(read_image(tmp_path / "syx.tif", lazy=True, axes="TYX")), planes)
    assert file_axes(tmp_path / "syx.tif", "TYX").axes == "TYX"
    volumes = read_volumes(tmp_path / "tsyx.tif", file_axes(tmp_path / "tsyx.tif", "TZYX"))
    assert np.array_equal(np.asarray(volumes), series)


def test_detect_refuses_a_planar_rgb_tiff_writing_nothing_and_detects_the_channel_chosen(tmp_path, capsys):
    path = tmp_path / "rgb.tif"
    tifffile.imwrite(path, np.concatenate([with_noise(spheres(1)), with_noise(spheres(1), 1)[:1]]),
                     photometric="rgb", planarconfig="separate", metadata=None)
    tifffile.imwrite(tmp_path / "alone.tif", spheres(1))
    common = ("--diameter", "10", *CPU)
    code, _, err = run_cli(capsys, "detect", path, "-o", tmp_path / "out.csv", *common)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "give channel=N (--channel N), N from 0 to 2," in err, err
    assert nothing_written(tmp_path, "out")
    detect_channel_as_its_plane_alone(run_cli, capsys, path, tmp_path / "alone.tif", common)


def test_an_ome_zarr_c_axis_is_channels_not_frames(tmp_path):
    # A 2-channel OME-Zarr (c, y, x) was read as a stack of 2 frames, "its metadata names no axes", and
    # --channel was refused for zarr.
    cyx = with_noise(spheres(2))
    path = tmp_path / "cyx.ome.zarr"
    write_ome_zarr(path, cyx, "cyx")
    for lazy in (False, True):
        with pytest.raises(ParticleDetectError) as refused:
            read_image(path, lazy=lazy)
        assert str(refused.value) == (f"{path}: its metadata names axes CYX (shape 2x96x96): 2 channels, and "
                                      "detection reads one; give channel=N (--channel N), N from 0 to 1, to detect one")
        read = read_image(path, lazy=lazy, channel=1)
        assert np.array_equal(np.asarray(read), cyx[1]) and isinstance(read, ZarrStack) == lazy
    with pytest.raises(ParticleDetectError,
                       match=r"cyx.ome.zarr: channel=2 \(--channel 2\), but it has 2 channels \(0-1\)"):
        read_image(path, channel=2)
    assert (file_axes(path).axes, file_axes(path, channel=1).channel) == ("YX", 1)
    # A time series of channels, its one-plane z axis left out: each channel is a stack of frames.
    tczyx = np.stack([with_noise(spheres(seed), seed) for seed in range(3)])[:, :, None]
    write_ome_zarr(tmp_path / "tczyx.ome.zarr", tczyx, "tczyx")
    stack = read_image(tmp_path / "tczyx.ome.zarr", lazy=True, channel=1)
    assert stack.shape == (3, 96, 96) and np.array_equal(stack[2], tczyx[2, 1, 0])
    assert file_axes(tmp_path / "tczyx.ome.zarr", channel=0).axes == "TYX"
    # A volume per channel: read as the chosen channel's volume, refused without one.
    czyx = np.random.default_rng(3).integers(0, 255, (2, 4, 16, 16)).astype(np.uint8)
    write_ome_zarr(tmp_path / "czyx.ome.zarr", czyx, "czyx")
    axes = file_axes(tmp_path / "czyx.ome.zarr", channel=1)
    assert axes.axes == "ZYX" and np.array_equal(np.asarray(read_volumes(tmp_path / "czyx.ome.zarr", axes)), czyx[1:])
    with pytest.raises(ParticleDetectError, match=r"axes CZYX .*give channel=N \(--channel N\)"):
        read_volumes(tmp_path / "czyx.ome.zarr", file_axes(tmp_path / "czyx.ome.zarr"))
    # A plain zarr names no axes: a last axis of 2-4 after two of image size is channels, as in a TIFF.
    yxc = zarr.open(str(tmp_path / "yxc.zarr"), mode="w", shape=(32, 40, 2), dtype=np.uint8)
    yxc[:] = np.random.default_rng(4).integers(0, 255, (32, 40, 2))
    with pytest.raises(ParticleDetectError, match="shape 32x40x2 looks like 2 channels on its last axis"):
        read_image(tmp_path / "yxc.zarr")
    assert np.array_equal(read_image(tmp_path / "yxc.zarr", channel=1), yxc[:, :, 1])


def test_detect_refuses_a_two_channel_ome_zarr_writing_nothing_and_detects_the_channel_chosen(tmp_path, capsys):
    write_ome_zarr(tmp_path / "cyx.ome.zarr", with_noise(spheres(2)), "cyx")
    tifffile.imwrite(tmp_path / "alone.tif", spheres(2))
    common = ("--diameter", "10", *CPU)
    code, _, err = run_cli(capsys, "detect", tmp_path / "cyx.ome.zarr", "-o", tmp_path / "out.csv", *common)
    assert code == 2 and err.strip().splitlines() == [
        f"particle-detect: error: {tmp_path / 'cyx.ome.zarr'}: its metadata names axes CYX (shape 2x96x96): 2 "
        "channels, and detection reads one; give channel=N (--channel N), N from 0 to 1, to detect one"], err
    assert nothing_written(tmp_path, "out")
    code, _, err = run_cli(capsys, "detect", tmp_path / "cyx.ome.zarr", "-o", tmp_path / "one.csv", "--channel", "1",
                           *common)
    assert code == 0, err
    code, _, err = run_cli(capsys, "detect", tmp_path / "alone.tif", "-o", tmp_path / "alone.csv", *common)
    assert code == 0, err
    found = pd.read_csv(tmp_path / "one.csv")
    assert len(found) > 5 and found.equals(pd.read_csv(tmp_path / "alone.csv"))
    assert json.loads((tmp_path / "one.json").read_text())["inputs"][0]["channel"] == 1


@pytest.mark.parametrize("kind", ["rods", "chains"])
def test_rods_and_chains_take_the_channel_chosen_as_spheres_do(tmp_path, capsys, kind):
    # detect --kind rods|chains refused --channel ("read for spheres only so far"), while a file of several
    # channels was refused without it: a multichannel file could not be detected for these kinds at all.
    if kind == "rods":
        image = synthesize_rods(benchmark_rod_config("fluorescent", 0.15, shape=(128, 128)), seed=123).image
    else:
        image = synthesize_chains(benchmark_chain_config("fluorescent", 0.25, shape=(128, 128)), seed=124).image
    channels = with_noise(image)
    tifffile.imwrite(tmp_path / "cyx.tif", channels, imagej=True, metadata={"axes": "CYX"})
    write_ome_zarr(tmp_path / "cyx.ome.zarr", channels, "cyx")
    tifffile.imwrite(tmp_path / "alone.tif", image)
    code, _, err = run_cli(capsys, "detect", tmp_path / "alone.tif", "--kind", kind, "-o", tmp_path / "alone.csv", *CPU)
    assert code == 0, err
    alone = pd.read_csv(tmp_path / "alone.csv")
    assert len(alone) > 5
    for name in ("cyx.tif", "cyx.ome.zarr"):
        out = tmp_path / f"{name.split('.')[-1]}.csv"
        code, _, err = run_cli(capsys, "detect", tmp_path / name, "--kind", kind, "-o", out, *CPU)
        assert code == 2 and len(err.strip().splitlines()) == 1, err
        assert "give channel=N (--channel N), N from 0 to 1, to detect one" in err, err
        assert nothing_written(tmp_path, out.stem)
        code, _, err = run_cli(capsys, "detect", tmp_path / name, "--kind", kind, "-o", out, "--channel", "1", *CPU)
        assert code == 0, err
        pd.testing.assert_frame_equal(pd.read_csv(out), alone, check_exact=False, atol=1e-3)
        assert json.loads(out.with_suffix(".json").read_text())["inputs"][0]["channel"] == 1
