"""Volumes (issue 20): axes from flags and metadata, bad input, the packing generator, the 3D
encoding, matching in physical space, and detect on a synthetic volume with the shipped 3D model."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile
from scipy.spatial.distance import pdist

from napari_particle_detect.files.axes import MICROMETRE, file_axes
from napari_particle_detect.cli.main import main
from napari_particle_detect.kinds.evaluation3d import match_nd, score_nd
from napari_particle_detect.kinds.heatmap3d import decode3d, encode3d
from napari_particle_detect.synthetic.volumes import VolumeConfig, pack_spheres, synthesize_volume


def run_cli(capsys, *args):
    code = main(["-q", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_axes_come_from_the_flag_then_imagej_and_ome_metadata_then_default(tmp_path):
    data = np.zeros((5, 16, 16), np.uint16)
    tifffile.imwrite(tmp_path / "plain.tif", data)
    tifffile.imwrite(tmp_path / "ij.tif", data, imagej=True, resolution=(2.0, 2.0),
                     metadata={"axes": "ZYX", "spacing": 1.5, "unit": "um"})
    tifffile.imwrite(tmp_path / "t.tif", np.zeros((2, 5, 16, 16), np.uint16), imagej=True, metadata={"axes": "TZYX"})
    tifffile.imwrite(tmp_path / "o.ome.tif", data, metadata={"axes": "ZYX", "PhysicalSizeZ": 2.0,
                                                             "PhysicalSizeY": 0.5, "PhysicalSizeX": 0.5})
    assert file_axes(tmp_path / "plain.tif").source == "default"
    assert file_axes(tmp_path / "plain.tif", "zyx").axes == "ZYX"
    ij = file_axes(tmp_path / "ij.tif")
    assert (ij.axes, ij.source, ij.voxel_size) == ("ZYX", "metadata", (1.5, 0.5, 0.5))
    assert file_axes(tmp_path / "t.tif").axes == "TZYX"
    assert file_axes(tmp_path / "o.ome.tif").voxel_size == (2.0, 0.5, 0.5)
    assert file_axes(tmp_path / "ij.tif", "TYX").axes == "TYX"  # the flag wins


def test_a_3d_tiff_without_axes_is_frames_and_the_log_names_the_flag(tmp_path, capsys):
    rng = np.random.default_rng(0)
    tifffile.imwrite(tmp_path / "s.tif", (rng.random((2, 32, 32)) * 1000).astype(np.uint16))
    code = main(["detect", str(tmp_path / "s.tif"), "-o", str(tmp_path / "s.csv"), "--diameter", "8",
                 "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 0
    assert [line for line in err.splitlines() if "--axes ZYX" in line] == [
        f"{tmp_path / 's.tif'}: read as a stack of 2 2D frames (its metadata names no axes); "
        "give --axes ZYX if it is one volume"]


@pytest.mark.parametrize("case", ["2d", "mismatch", "one slice", "nan"])
def test_bad_volume_input_is_one_line_and_nothing_written(tmp_path, capsys, case):
    rng = np.random.default_rng(1)
    path, axes, problem = tmp_path / "in.tif", "ZYX", ""
    if case == "2d":
        tifffile.imwrite(path, rng.random((32, 32)).astype(np.float32))
        problem = "--axes ZYX names 3 axes, but the image has 2 (shape 32x32)"
    elif case == "mismatch":
        tifffile.imwrite(path, rng.random((4, 32, 32)).astype(np.float32))
        axes, problem = "TZYX", "--axes TZYX names 4 axes, but the image has 3 (shape 4x32x32)"
    elif case == "one slice":
        tifffile.imwrite(path, rng.random((1, 32, 32)).astype(np.float32))
        problem = "a volume needs at least 2 slices along Z, this one has 1"
    else:
        tifffile.imwrite(path, np.full((4, 32, 32), np.nan, np.float32))  # a few NaN voxels are detected around
        problem = "every voxel is NaN or infinite; nothing to detect"
    code, _, err = run_cli(capsys, "detect", path, "-o", tmp_path / "out.csv", "--axes", axes)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and problem in err and str(path) in err
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "out.json").exists()


def test_packing_reaches_dense_fractions_without_overlaps():
    rng = np.random.default_rng(3)
    box = (40.0, 40.0, 40.0)
    positions, diameters, reached = pack_spheres(box, 0.55, 8.0, 0.07, rng)
    assert reached == pytest.approx(0.55, abs=0.005)
    assert 0.05 < diameters.std() / diameters.mean() < 0.09
    # Periodic distances: no two spheres overlap (beyond rounding).
    delta = np.abs(positions[:, None] - positions[None])
    delta = np.minimum(delta, np.array(box) - delta)
    dist = np.sqrt((delta**2).sum(-1))
    contact = (diameters[:, None] + diameters[None]) / 2
    np.fill_diagonal(dist, np.inf)
    assert np.all(dist >= contact - 1e-6)
    assert np.mean(np.min(dist / contact, axis=1) < 1.05) > 0.5  # touching neighbours, not a dilute gas


def test_generator_truth_lies_on_its_spheres():
    config = VolumeConfig(shape=(16, 40, 40), volume_fraction=0.3, diameter=8.0, z_step=2.0, photons=2000,
                          read_noise=1.0, background=0.0, depth_decay=1.0)
    sample = synthesize_volume(config, seed=5)
    assert sample.image.dtype == np.uint16 and sample.image.shape == (16, 40, 40)
    assert sample.volume_fraction == pytest.approx(0.3, abs=0.005)
    physical = sample.centres * np.array([2.0, 1.0, 1.0])
    assert pdist(physical).min() >= 0.7 * 8.0
    inner = np.all((sample.centres > 2) & (sample.centres < np.array([13, 37, 37])), axis=1)
    z, y, x = np.rint(sample.centres[inner]).astype(int).T
    centre_values = sample.image[z, y, x].astype(float)
    assert np.median(centre_values) > np.percentile(sample.image, 60)  # bright at every true centre


def test_encode_decode_3d_round_trip_is_subvoxel_exact():
    rng = np.random.default_rng(2)
    grid = np.stack(np.meshgrid(*[np.arange(5, 35, 7.0)] * 3, indexing="ij"), -1).reshape(-1, 3)
    centres = grid + rng.uniform(-0.5, 0.5, grid.shape)
    found, scores = decode3d(encode3d(centres, (40, 40, 40), 1.2), 0.4)
    result = score_nd(found, centres, 2.0)
    assert result.f1 == 1.0 and max(result.rms_z, result.rms_y, result.rms_x) < 0.02
    assert np.all(scores > 0.75)  # a voxel at most half a voxel off the centre along each axis


def test_matching_is_in_physical_space():
    truth = np.array([[10.0, 10.0, 10.0]])
    predicted = np.array([[12.0, 10.0, 10.0]])  # two z voxels off
    assert len(match_nd(predicted, truth, 3.0)[0]) == 1  # isotropic voxels: 2 < 3
    assert len(match_nd(predicted, truth, 3.0, scale=(2.0, 1.0, 1.0))[0]) == 0  # z voxel twice as long: 4 > 3


def test_detect_a_synthetic_volume_with_the_shipped_3d_model(tmp_path, capsys):
    trackpy = pytest.importorskip("trackpy")
    code, _, _ = run_cli(capsys, "synth", tmp_path / "v", "--volume", "--n", "1", "--volume-shape", "20", "64", "64",
                         "--volume-fraction", "0.3", "--seed", "11")
    assert code == 0
    out = tmp_path / "pred.csv"
    code = main(["detect", str(tmp_path / "v" / "volume_000.tif"), "-o", str(out), "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 0, err
    table = pd.read_csv(out)
    assert list(table.columns[:5]) == ["frame", "z", "y", "x", "score"]
    # synth's ImageJ metadata: z spacing 2 in "pixel" units. It sizes z from xy; it is no micrometre.
    assert not {"z_um", "y_um", "x_um"} & set(table.columns)
    assert "voxel size 2 x 1 x 1 in pixel, not a length" in err
    assert json.loads(out.with_suffix(".json").read_text())["inputs"][0]["diameter_source"].endswith(
        "z from voxel size")
    truth = pd.read_csv(tmp_path / "v" / "volume_000.csv")
    code, printed, _ = run_cli(capsys, "evaluate", out, tmp_path / "v" / "volume_000.csv", "--tolerance", "5",
                               "--voxel-size", "2", "1", "1", "--json")
    scores = json.loads(printed)
    assert scores["f1"] > 0.85, scores
    assert len(truth) > 20
    # With z_um,y_um,x_um beside the positions, evaluate reads the voxel size from them, as link does
    # (it matched as if the voxels were cubes, silently).
    table.assign(z_um=table["z"] * 0.4, y_um=table["y"] * 0.2, x_um=table["x"] * 0.2).to_csv(
        tmp_path / "um.csv", index=False)
    code = main(["evaluate", str(tmp_path / "um.csv"), str(tmp_path / "v" / "volume_000.csv"), "--tolerance", "5",
                 "--json"])
    printed, err = capsys.readouterr()
    read = json.loads(printed)
    assert {k: read[k] for k in ("tp", "fp", "fn")} == {k: scores[k] for k in ("tp", "fp", "fn")}
    assert read["f1"] == pytest.approx(scores["f1"])
    assert "voxel size 0.4 x 0.2 x 0.2 from its z_um,y_um,x_um" in err
    # No columns, but detect's .json beside the table gives the aspect (it matched as cubes before).
    assert main(["evaluate", str(out), str(tmp_path / "v" / "volume_000.csv"), "--tolerance", "5"]) == 0
    assert "voxel size 2 x 1 x 1 from detect's .json beside it" in capsys.readouterr().err
    # Two time points of the same volume link into tracks along z, y, x.
    linked = trackpy.link(pd.concat([table, table.assign(frame=1)]), 5, pos_columns=["z", "y", "x"])
    assert linked["particle"].nunique() == len(table)


def test_ome_zarr_axes_and_scale_make_a_time_series_of_volumes(tmp_path):
    import zarr

    from napari_particle_detect.files.axes import read_volumes

    group = zarr.open_group(str(tmp_path / "v.ome.zarr"), mode="w")
    group.attrs["multiscales"] = [{"version": "0.4", "axes": [{"name": n} for n in "tczyx"],
                                   "datasets": [{"path": "0", "coordinateTransformations": [
                                       {"type": "scale", "scale": [1.0, 1.0, 2.0, 0.5, 0.5]}]}]}]
    array = group.create_array("0", shape=(2, 1, 6, 16, 16), dtype=np.uint16)
    array[:] = np.arange(2 * 6 * 16 * 16, dtype=np.uint16).reshape(2, 1, 6, 16, 16)
    axes = file_axes(tmp_path / "v.ome.zarr")
    assert (axes.axes, axes.source, axes.voxel_size) == ("TZYX", "metadata", (2.0, 0.5, 0.5))
    volumes = read_volumes(tmp_path / "v.ome.zarr", axes)
    assert volumes.shape == (2, 6, 16, 16) and volumes[1, 0, 0, 0] == 6 * 16 * 16
    assert not isinstance(volumes, np.ndarray)  # read a chunk at a time, not all at once


def test_a_tzyx_tiff_is_mapped_not_read_and_a_compressed_one_is_read(tmp_path):
    from napari_particle_detect.files.axes import read_volumes

    data = np.arange(3 * 4 * 16 * 16, dtype=np.uint16).reshape(3, 4, 16, 16)
    tifffile.imwrite(tmp_path / "t.tif", data, imagej=True, metadata={"axes": "TZYX"})
    tifffile.imwrite(tmp_path / "c.tif", data, compression="zlib")
    mapped = read_volumes(tmp_path / "t.tif", file_axes(tmp_path / "t.tif"))
    assert isinstance(mapped, np.memmap) and mapped.shape == (3, 4, 16, 16)
    assert np.array_equal(np.asarray(mapped[2]), data[2])
    read = read_volumes(tmp_path / "c.tif", file_axes(tmp_path / "c.tif", "TZYX"))
    assert not isinstance(read, np.memmap) and np.array_equal(read, data)
    one = read_volumes(tmp_path / "t.tif", file_axes(tmp_path / "t.tif", "TZYX"))
    assert np.array_equal(np.asarray(one[1]), data[1])


def test_onnx_runtime_finds_the_centres_torch_finds_in_a_volume(tmp_path):
    pytest.importorskip("onnxruntime")
    import torch

    from napari_particle_detect.errors import ParticleDetectError
    from napari_particle_detect.models import load_model, save_model
    from napari_particle_detect.detection.runtimes import OnnxNetwork, export
    from napari_particle_detect.detection.volume_detection import VolumeOptions, detect_volume, load_volume_model, volume_network
    from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

    torch.set_num_threads(1)
    # A copy in tmp_path: its exported form is cached beside it, not in the package.
    model = load_model(save_model(load_volume_model(None), tmp_path / "unet3d.pt"))
    assert isinstance(volume_network(model, torch.device("cpu")), OnnxNetwork)  # auto on a CPU
    assert not isinstance(volume_network(model, torch.device("cpu"), "torch"), OnnxNetwork)
    volume = synthesize_volume(VolumeConfig(shape=(20, 48, 48), volume_fraction=0.3), seed=3).image
    found = {runtime: detect_volume(volume, model, VolumeOptions(voxel_size=(2.0, 1.0, 1.0),
                                                                  runtime=runtime))
             for runtime in ("torch", "onnx")}
    (torch_centres, torch_scores, _), (onnx_centres, onnx_scores, _) = found["torch"], found["onnx"]
    assert len(torch_centres) > 5 and len(onnx_centres) == len(torch_centres)
    assert np.abs(onnx_centres - torch_centres).max() < 1e-3
    assert np.abs(onnx_scores - torch_scores).max() < 1e-4
    assert list(tmp_path.glob("unet3d.*.float32.onnx"))
    with pytest.raises(ParticleDetectError, match="3D model runs in float32"):
        export(model, "int8")


@pytest.fixture(scope="module")
def small_volume():
    return synthesize_volume(VolumeConfig(shape=(16, 48, 48), volume_fraction=0.3, diameter=10.0, z_step=2.0), seed=4)


def test_the_voxel_size_is_read_in_micrometres_from_known_units_and_no_other(tmp_path):
    data = np.zeros((3, 16, 16), np.uint16)
    for name, unit, resolution, spacing in (("nm", "nm", 0.01, 200.0), ("micron", "micron", 10.0, 0.2),
                                            ("escaped", "\\u00B5m", 10.0, 0.2), ("mm", "mm", 1e4, 2e-4),
                                            ("pixel", "pixel", 1.0, 2.0)):
        tifffile.imwrite(tmp_path / f"{name}.tif", data, imagej=True, resolution=(resolution, resolution),
                         metadata={"axes": "ZYX", "spacing": spacing, "unit": unit})
    for name in ("nm", "micron", "escaped", "mm"):
        axes = file_axes(tmp_path / f"{name}.tif")
        assert axes.voxel_unit == MICROMETRE and axes.voxel_um == pytest.approx((0.2, 0.1, 0.1)), name
    pixel = file_axes(tmp_path / "pixel.tif")
    assert (pixel.voxel_size, pixel.voxel_unit, pixel.voxel_um) == ((2.0, 1.0, 1.0), "pixel", None)
    tifffile.imwrite(tmp_path / "o.ome.tif", data, metadata={
        "axes": "ZYX", "PhysicalSizeZ": 400.0, "PhysicalSizeZUnit": "nm", "PhysicalSizeY": 0.1,
        "PhysicalSizeX": 0.1})
    assert file_axes(tmp_path / "o.ome.tif").voxel_um == pytest.approx((0.4, 0.1, 0.1))


def test_centres_of_a_nanometre_file_are_written_in_micrometres(tmp_path, capsys, small_volume):
    path = tmp_path / "nm.tif"
    tifffile.imwrite(path, small_volume.image, imagej=True, resolution=(0.01, 0.01),
                     metadata={"axes": "ZYX", "spacing": 200.0, "unit": "nm"})
    code, _, err = run_cli(capsys, "detect", path, "-o", tmp_path / "c.csv", "--diameter", "10")
    assert code == 0, err
    table = pd.read_csv(tmp_path / "c.csv")
    assert len(table) > 10
    np.testing.assert_allclose(table[["z_um", "y_um", "x_um"]], table[["z", "y", "x"]] * [0.2, 0.1, 0.1], atol=2e-3)
    record = json.loads((tmp_path / "c.json").read_text())["inputs"][0]
    assert record["voxel_size_zyx"] == pytest.approx([0.2, 0.1, 0.1]) and record["voxel_unit"] == MICROMETRE


def test_a_blank_time_point_is_skipped_and_the_rest_of_the_series_detected(tmp_path, capsys, small_volume):
    series = np.stack([small_volume.image, np.full_like(small_volume.image, 7), small_volume.image])
    path = tmp_path / "t.tif"
    tifffile.imwrite(path, series, imagej=True, metadata={"axes": "TZYX", "spacing": 2.0})
    code = main(["detect", str(path), "-o", str(tmp_path / "c.csv"), "--diameter", "10"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert f"{path} volume 1: volume is constant (every voxel is 7); nothing to detect (volume 1 skipped; the rest " \
           "of the series is detected)" in err
    table = pd.read_csv(tmp_path / "c.csv")
    counts = table.groupby("frame").size()
    assert set(counts.index) == {0, 2} and counts[0] == counts[2] > 10
    assert json.loads((tmp_path / "c.json").read_text())["inputs"][0]["skipped_volumes"] == [1]
    tifffile.imwrite(path, np.zeros((2, 4, 16, 16), np.uint16), imagej=True, metadata={"axes": "TZYX"})
    code, _, err = run_cli(capsys, "detect", path, "-o", tmp_path / "d.csv")
    assert code == 2 and err.strip().splitlines() == [
        f"particle-detect: error: {path}: every volume is constant; nothing to detect"]


def test_a_4d_tiff_without_axes_is_told_to_give_axes_tzyx(tmp_path, capsys):
    path = tmp_path / "plain.tif"
    tifffile.imwrite(path, np.zeros((2, 4, 16, 16), np.uint16))
    code, _, err = run_cli(capsys, "detect", path, "-o", tmp_path / "c.csv")
    assert code == 2 and err.strip().splitlines() == [
        f"particle-detect: error: {path}: expected a 2D image or a 3D stack, got shape (2, 4, 16, 16): its metadata "
        "names no axes; give --axes TZYX if it is a time series of volumes"]
    assert not (tmp_path / "c.csv").exists()


def test_the_3d_training_program_resumes_from_its_state(tmp_path):
    # Its state held NumPy scalars (the learning rate, the best F1), which the tensors-only loader refused.
    from napari_particle_detect.learning.volume_training import VolumeTrainConfig, train_volumes, write_pool

    write_pool(tmp_path / "pool", 1, 1)
    write_pool(tmp_path / "val", 100, 1)
    # A small network for a short time: a few steps, their state saved, are all a resume needs.
    config = VolumeTrainConfig(channels=(4, 8), minutes=0.01, validate_every=2, batch_size=1, crop=16, cache=1)
    out = train_volumes(tmp_path / "pool", tmp_path / "val", tmp_path / "m.pt", config, log=lambda *_: None)
    assert out.exists() and out.with_suffix(".state.pt").exists()
    steps = []
    train_volumes(tmp_path / "pool", tmp_path / "val", out, VolumeTrainConfig(**{**config.__dict__, "minutes": 0.015}),
                  resume=True, log=steps.append)
    assert steps and int(steps[0].split()[1]) > 2  # it went on from the saved step


def test_a_voxel_size_in_units_not_all_lengths_is_kept_as_written_and_its_units_named(tmp_path):
    import zarr

    data = np.zeros((3, 16, 16), np.uint16)
    tifffile.imwrite(tmp_path / "o.ome.tif", data, metadata={
        "axes": "ZYX", "PhysicalSizeZ": 2.0, "PhysicalSizeZUnit": "pixel", "PhysicalSizeY": 0.1, "PhysicalSizeX": 0.1})
    ome = file_axes(tmp_path / "o.ome.tif")
    assert (ome.voxel_size, ome.voxel_unit, ome.voxel_um) == ((2.0, 0.1, 0.1), f"pixel/{MICROMETRE}", None)
    # OME-Zarr names the first axis whose unit is no length (None: it has no unit).
    for name, units, voxel, unit in (("nm", ("nanometer", "micrometer", "micrometer"), (0.4, 0.5, 0.5), MICROMETRE),
                                     ("none", (None, "micrometer", "micrometer"), (400.0, 0.5, 0.5), None),
                                     ("pixel", ("micrometer", "pixel", "pixel"), (400.0, 0.5, 0.5), "pixel")):
        group = zarr.open_group(str(tmp_path / f"{name}.ome.zarr"), mode="w")
        group.attrs["multiscales"] = [{"version": "0.4", "axes": [
            {"name": n, **({"unit": u} if u else {})} for n, u in zip("zyx", units)],
            "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [400.0, 0.5, 0.5]}]}]}]
        group.create_array("0", shape=(3, 16, 16), dtype=np.uint16)
        axes = file_axes(tmp_path / f"{name}.ome.zarr")
        assert axes.voxel_size == pytest.approx(voxel) and axes.voxel_unit == unit, name


def test_link_and_evaluate_take_the_voxel_size_given_else_either_tables_columns_else_cubes(tmp_path, capsys, caplog):
    import logging

    from napari_particle_detect.errors import ParticleDetectError
    from napari_particle_detect.files.tables import FROM_COLUMNS, FROM_OPTION, resolve_voxel_size

    plain = pd.DataFrame({"frame": [0, 0], "z": [2.0, 4.0], "y": [3.0, 6.0], "x": [5.0, 10.0], "score": 1.0})
    um = plain.assign(z_um=plain["z"] * 0.4, y_um=plain["y"] * 0.2, x_um=plain["x"] * 0.2)
    log = logging.getLogger("test-voxel-size")
    with caplog.at_level(logging.INFO, logger="test-voxel-size"):
        given = resolve_voxel_size([2.0, 1.0, 1.0], [("a.csv", um)], log, "as cubes")
        read = resolve_voxel_size(None, [("a.csv", plain), ("b.csv", um)], log, "as cubes")
        assert caplog.messages == []
        none = resolve_voxel_size(None, [("a.csv", plain), ("b.csv", plain)], log, "matched as cubes")
    assert (given.size, given.source, given.table) == ((2.0, 1.0, 1.0), FROM_OPTION, None)
    assert read.size == pytest.approx((0.4, 0.2, 0.2)) and (read.source, read.table) == (FROM_COLUMNS, "b.csv")
    assert read.describe() == "0.4 x 0.2 x 0.2" and (none.size, none.source) == (None, "")
    assert caplog.messages == ["a.csv: no voxel size (no --voxel-size, no z_um,y_um,x_um columns): matched as cubes"]
    # Tables whose columns disagree were matched in the first one's space, unsaid.
    wide = plain.assign(z_um=plain["z"] * 1.0, y_um=plain["y"] * 0.2, x_um=plain["x"] * 0.2)
    with pytest.raises(ParticleDetectError, match=r"^b.csv's z_um,y_um,x_um columns \(0.4 x 0.2 x 0.2 µm\) disagree "
                                                  r"with c.csv's \(1 x 0.2 x 0.2 µm\): one of them is another image's"):
        resolve_voxel_size(None, [("a.csv", plain), ("b.csv", um), ("c.csv", wide)], log, "as cubes")
    doubled = plain.assign(z_um=plain["z"] * 0.8, y_um=plain["y"] * 0.4, x_um=plain["x"] * 0.4)
    assert resolve_voxel_size(None, [("b.csv", um), ("d.csv", doubled)], log, "as cubes").table == "b.csv"
    # evaluate names the table the size came from: here the truth, the second.
    plain.to_csv(tmp_path / "p.csv", index=False)
    um.to_csv(tmp_path / "t.csv", index=False)
    assert main(["evaluate", str(tmp_path / "p.csv"), str(tmp_path / "t.csv"), "--json"]) == 0
    assert (f"{tmp_path / 't.csv'}: voxel size 0.4 x 0.2 x 0.2 from its z_um,y_um,x_um columns (the tolerance is in "
            "y voxels)") in capsys.readouterr().err


def test_the_3d_training_program_reads_its_arguments_by_name_with_resume_anywhere(tmp_path, monkeypatch, capsys):
    # It read sys.argv by position: "train POOL VAL OUT 0.1 --resume" read --resume as the learning rate
    # (ValueError: could not convert string to float: '--resume').
    from napari_particle_detect.learning import volume_training

    calls = []
    monkeypatch.setattr(volume_training, "train_volumes",
                        lambda pool, validation, out, config, resume=False, init=None: calls.append(
                            (pool, validation, out, config.minutes, config.learning_rate, resume, init)))
    for folder in ("pool", "val"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "vol_0000001.npz").write_bytes(b"")
    (tmp_path / "init.pt").write_bytes(b"")
    pool, val, out = tmp_path / "pool", tmp_path / "val", tmp_path / "m.pt"
    assert volume_training.main(["train", pool, val, out, "0.1", "--resume"]) == 0
    assert volume_training.main(["train", "--resume", pool, val, out, "0.1", "0.004", tmp_path / "init.pt"]) == 0
    assert volume_training.main(["train", pool, val, out]) == 0
    assert volume_training.main(["train", pool, val, out, "5", "--resume", "0.001"]) == 0
    assert calls == [(pool, val, out, 0.1, 2e-3, True, None),
                     (pool, val, out, 0.1, 0.004, True, tmp_path / "init.pt"),
                     (pool, val, out, 20.0, 2e-3, False, None),
                     (pool, val, out, 5.0, 0.001, True, None)]
    prog = "python -m napari_particle_detect.learning.volume_training train"
    for argv, line in [
            ([pool, val, out, "abc"], f"{prog}: error: argument MINUTES: expected a number in (0, 1e+06], got 'abc' "
                                      f"(see {prog} --help)"),
            ([pool, val], f"{prog}: error: the following arguments are required: OUT (see {prog} --help)"),
            ([pool, tmp_path / "nope", out], f"{prog}: error: {tmp_path / 'nope'}: no such folder; give the "
                                             "validation folder (write it with python -m napari_particle_detect."
                                             "learning.volume_training FOLDER FIRST_SEED COUNT)"),
            ([tmp_path, val, out], f"{prog}: error: {tmp_path}: holds no pool volumes (vol_*.npz); write them with "
                                   "python -m napari_particle_detect.learning.volume_training FOLDER FIRST_SEED COUNT"),
            ([pool, val, out, "1", "1e-3", tmp_path / "no.pt"], f"{prog}: error: {tmp_path / 'no.pt'}: file not "
                                                                "found; give the weights (.pt) to start from")]:
        try:
            code = volume_training.main(["train", *argv])
        except SystemExit as stop:
            code = stop.code
        err = capsys.readouterr().err
        assert code == 2 and err.strip().splitlines() == [line], err
    assert len(calls) == 4
    # Writing pool volumes: POOL FIRST_SEED COUNT, checked alike.
    with pytest.raises(SystemExit):
        volume_training.main([tmp_path / "p", "x", "1"])
    assert "argument FIRST_SEED: expected a whole number" in capsys.readouterr().err


def test_a_voxel_size_of_zero_in_a_files_metadata_is_ignored_with_a_warning(tmp_path, caplog):
    """ImageJ's spacing 0 is the file's, not an option the user gave: said once, then the z size is
    estimated, not refused as if it had been typed (nor a division by zero)."""
    from napari_particle_detect.detection.volume_detection import VolumeOptions, detect_volume_file
    from napari_particle_detect.files.axes import file_axes
    from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

    volume = synthesize_volume(VolumeConfig(shape=(16, 48, 48), volume_fraction=0.3), seed=1).image
    path = tmp_path / "spacing0.tif"
    tifffile.imwrite(path, volume, imagej=True, metadata={"axes": "ZYX", "spacing": 0.0, "unit": "um"},
                     resolution=(2.0, 2.0))
    axes = file_axes(path)
    assert axes.voxel_size[0] == 0.0
    with caplog.at_level("WARNING"):
        table, record = detect_volume_file(path, axes, VolumeOptions(device="cpu"))
    assert len(table) and record["voxel_size_zyx"] is None
    assert any("not three positive numbers: ignored" in r.getMessage() for r in caplog.records)


def test_volume_scores_take_z_y_x_points_and_tables_and_refuse_other_shapes():
    """score_nd reshaped any input to (-1, 3): (N, 2) points were read as 2/3 N points without a word."""
    from napari_particle_detect.errors import ParticleDetectError
    from napari_particle_detect.kinds.evaluation3d import evaluate_volumes, score_nd

    truth = np.array([[5.0, 10.0, 10.0], [9.0, 30.0, 20.0]])
    assert score_nd(truth + 0.5, truth, 2.0).f1 == 1.0
    assert score_nd(np.zeros((0, 3)), [], 2.0).f1 == 1.0  # nothing to find, nothing found
    with pytest.raises(ValueError, match=r"predicted must be an \(N, 3\) array of z, y, x points, got shape \(3, 2\); "
                                         r"\(y, x\) points are scored by kinds.evaluation.score"):
        score_nd(np.zeros((3, 2)), truth, 2.0)
    with pytest.raises(ParticleDetectError, match="truth: 1 of 2 points has a missing"):
        score_nd(truth, [[5.0, 10.0, np.nan], [9.0, 30.0, 20.0]], 2.0)
    with pytest.raises(ValueError, match="tolerance must be a positive number"):
        score_nd(truth, truth, -1)
    table = pd.DataFrame(truth, columns=["z", "y", "x"])
    assert evaluate_volumes(table, table, 2.0).set_index("frame").loc["all", "f1"] == 1.0
    with pytest.raises(ParticleDetectError, match=r"predicted: a table of volume centres needs columns z, y and x \(no z\)"):
        evaluate_volumes(table.drop(columns="z"), table, 2.0)


def _channel_files(folder):
    """Files of several channels as microscopes and tifffile write them: (path, data, channel axis, axes named)."""
    rng = np.random.default_rng(5)
    pixels = lambda *shape: rng.integers(0, 255, shape).astype(np.uint8)  # noqa: E731
    files = []
    for name, data, axis, axes, options in (
            ("imagej_cyx.tif", pixels(2, 24, 24), 0, "CYX", dict(imagej=True, metadata={"axes": "CYX"})),
            ("ome_cyx.ome.tif", pixels(2, 24, 24), 0, "CYX", dict(metadata={"axes": "CYX"})),
            ("imagej_tcyx.tif", pixels(3, 2, 24, 24), 1, "TCYX", dict(imagej=True, metadata={"axes": "TCYX"})),
            ("ome_tcyx_zlib.ome.tif", pixels(3, 2, 24, 24), 1, "TCYX", dict(metadata={"axes": "TCYX"},
                                                                             compression="zlib")),
            # RGB planes of another program (tifffile's own, without metadata=None, are frames: below).
            ("rgb_planar.tif", pixels(3, 24, 24), 0, "SYX", dict(photometric="rgb", planarconfig="separate",
                                                                 metadata=None)),
            ("rgb.tif", pixels(24, 24, 3), 2, "YXS", dict(photometric="rgb")),
            ("rgb_stack.tif", pixels(4, 24, 24, 3), 3, "QYXS", dict(photometric="rgb"))):
        tifffile.imwrite(folder / name, data, **options)
        files.append((folder / name, data, axis, axes))
    return files


def test_a_tiff_of_several_channels_is_refused_by_name_and_read_one_channel_at_a_time(tmp_path):
    # A planar RGB TIFF (SYX) and ImageJ/OME CYX hyperstacks were read as stacks of frames, one per
    # channel; the axes kept were only YX, TYX, ZYX and TZYX, anything else fell back to "frames".
    from napari_particle_detect.errors import ParticleDetectError
    from napari_particle_detect.files.io import LazyTiffStack, read_image

    for path, data, axis, axes in _channel_files(tmp_path):
        count, shape = data.shape[axis], "x".join(map(str, data.shape))
        for lazy in (False, True):
            with pytest.raises(ParticleDetectError) as refused:
                read_image(path, lazy=lazy)
            message = str(refused.value)
            assert message.startswith(f"{path}: ") and "\n" not in message, message
            assert f"axes {axes}" in message and f"shape {shape}" in message, message
            assert f"give channel=N (--channel N), N from 0 to {count - 1}," in message, message
            assert "names no axes" not in message, message
            for channel in range(count):
                read = read_image(path, lazy=lazy, channel=channel)
                assert np.array_equal(np.asarray(read), np.take(data, channel, axis=axis)), (path, channel)
                assert isinstance(read, LazyTiffStack) == (lazy and read.ndim == 3), (path, lazy)
        with pytest.raises(ParticleDetectError,
                           match=rf"channel={count} \(--channel {count}\), but it has {count} channels"):
            read_image(path, channel=count)
        # The axes are each channel's: a TCYX file's channels are stacks of frames, by its metadata.
        each = axes.replace("C", "").replace("S", "")
        assert file_axes(path, channel=0).axes == (each if each in ("YX", "TYX") else ""), path
        assert file_axes(path, channel=1).channel == 1
        with pytest.raises(ParticleDetectError,
                           match=rf"channel={count} \(--channel {count}\), but it has {count} channels"):
            file_axes(path, channel=count)
    # tifffile writes a stack of 3 or 4 frames as RGB planes unless told photometric="minisblack" (the bundled
    # sample stacks are such files): frames as before, a plane when one is chosen.
    frames = np.random.default_rng(6).integers(0, 255, (3, 24, 24)).astype(np.uint8)
    tifffile.imwrite(tmp_path / "tifffile_planes.tif", frames, photometric="rgb")
    assert np.array_equal(np.asarray(read_image(tmp_path / "tifffile_planes.tif", lazy=True)), frames)
    assert np.array_equal(read_image(tmp_path / "tifffile_planes.tif", channel=2), frames[2])
    assert file_axes(tmp_path / "tifffile_planes.tif").source == "default"
    assert file_axes(tmp_path / "tifffile_planes.tif", channel=2).axes == "YX"
    tifffile.imwrite(tmp_path / "grey.tif", np.zeros((2, 24, 24), np.uint8), imagej=True, metadata={"axes": "TYX"})
    for refuse in (read_image, file_axes):
        with pytest.raises(ParticleDetectError, match=r"grey.tif: channel=0 \(--channel 0\), but it has no channels "
                                                      r"\(shape 2x24x24\); leave it out$"):
            refuse(tmp_path / "grey.tif", channel=0)


def test_a_tiff_whose_metadata_names_no_axes_but_ends_in_2_to_4_values_is_taken_for_channels(tmp_path):
    # It was a stack of 384 frames of 384 x 2 pixels: "frame 0: image is too small ((384, 2))".
    from napari_particle_detect.errors import ParticleDetectError
    from napari_particle_detect.files.io import read_image

    data = np.random.default_rng(2).integers(0, 255, (32, 40, 2)).astype(np.uint8)
    tifffile.imwrite(tmp_path / "yxc.tif", data, photometric="minisblack")
    with pytest.raises(ParticleDetectError) as refused:
        read_image(tmp_path / "yxc.tif", lazy=True)
    assert str(refused.value) == (f"{tmp_path / 'yxc.tif'}: shape 32x40x2 looks like 2 channels on its last axis "
                                  "(its metadata names no axes); give channel=N (--channel N), N from 0 to 1, to "
                                  "detect one")
    assert np.array_equal(read_image(tmp_path / "yxc.tif", lazy=True, channel=1), data[..., 1])
    tifffile.imwrite(tmp_path / "narrow.tif", np.zeros((5, 32, 3), np.uint8), photometric="minisblack")
    assert read_image(tmp_path / "narrow.tif").shape == (5, 32, 3)  # 5 rows: no image of channels


def test_the_chosen_channel_of_a_czyx_file_is_detected_as_a_volume(tmp_path, capsys, small_volume):
    # CZYX fell back to the 2D reader, and its 4 dimensions were refused with "give --axes TZYX".
    from napari_particle_detect.files.axes import read_volumes

    volume = small_volume.image
    noise = np.random.default_rng(3).integers(0, int(volume.max()), volume.shape).astype(volume.dtype)
    path = tmp_path / "czyx.ome.tif"
    tifffile.imwrite(path, np.stack([noise, volume]), metadata={"axes": "CZYX"})
    tifffile.imwrite(tmp_path / "alone.tif", volume, imagej=True, metadata={"axes": "ZYX"})
    axes = file_axes(path, channel=1)
    assert (axes.axes, axes.source, axes.channel) == ("ZYX", "metadata", 1)
    assert np.array_equal(np.asarray(read_volumes(path, axes)[0]), volume)
    code, _, err = run_cli(capsys, "detect", path, "-o", tmp_path / "none.csv")
    assert code == 2 and err.strip().splitlines() == [
        f"particle-detect: error: {path}: its metadata names axes CZYX (shape 2x{'x'.join(map(str, volume.shape))}): "
        "2 channels, and detection reads one; give channel=N (--channel N), N from 0 to 1, to detect one"]
    code, _, err = run_cli(capsys, "detect", path, "-o", tmp_path / "one.csv", "--channel", "1", "--diameter", "10")
    assert code == 0, err
    code, _, err = run_cli(capsys, "detect", tmp_path / "alone.tif", "-o", tmp_path / "alone.csv", "--diameter", "10")
    assert code == 0, err
    found = pd.read_csv(tmp_path / "one.csv")
    assert len(found) > 10 and found.equals(pd.read_csv(tmp_path / "alone.csv"))


def test_a_blank_last_time_point_of_an_unnamed_series_is_said_as_volume_t(small_volume, caplog):
    # A constant volume after the last one detected was never said (its line waited for a later volume), and
    # detect_volumes' default name made it "volume volume 1".
    from napari_particle_detect.detection.volume_detection import detect_volumes

    series = np.stack([small_volume.image, np.full_like(small_volume.image, 7)])
    with caplog.at_level("WARNING"):
        table = detect_volumes(series, diameter=10)
    assert set(table["frame"]) == {0}
    said = [record.getMessage() for record in caplog.records]
    assert "volume 1: volume is constant (every voxel is 7); nothing to detect (volume 1 skipped; the rest of the " \
           "series is detected)" in said, said
    assert not any("volume volume" in line for line in said), said
