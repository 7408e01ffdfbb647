"""Model manifest, verification, license policy and installation against the real model files."""

from __future__ import annotations

import shutil

import pytest

from edge_models.install import install_models
from edge_models.manifest import ManifestError, load_manifest
from edge_models.verify import LicenseRefused, ModelCorrupt, ModelMissing, check_license, verify_all, verify_model


@pytest.fixture
def manifest():
    return load_manifest()


def copy_bundle(src, dst, manifest, names=None):
    for spec in manifest.model:
        if names and spec.name not in names:
            continue
        (dst / spec.file).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src / spec.file, dst / spec.file)
    return dst


def test_every_manifest_model_verifies_in_shared_models_or_installed_packages(manifest, models_dir, installed_models):
    results = verify_all(manifest, [models_dir, installed_models])
    assert [r.name for r in results if not r.ok] == []
    assert {"face_detector", "face_recognizer", "liveness", "landmarks", "asr"} <= {m.role for m in manifest.model}
    bundled = [r for r in verify_all(manifest, models_dir) if r.ok]
    assert {r.name for r in bundled} == {m.name for m in manifest.model if not m.package_source}


def test_manifest_records_licenses_and_refuses_unknown_names(manifest):
    assert manifest.get("scrfd_500m").commercial_use is False
    assert manifest.get("mobilefacenet_sirius_192d").caveat
    assert all(spec.license for spec in manifest.model)
    with pytest.raises(ManifestError, match="not in the manifest"):
        manifest.get("sface")


def test_corrupted_copy_fails_naming_file_and_expected_hash(manifest, models_dir, tmp_path):
    spec = manifest.get("yunet_2023mar")
    copy_bundle(models_dir, tmp_path, manifest, ["yunet_2023mar"])
    target = tmp_path / spec.file
    data = bytearray(target.read_bytes())
    data[1000] ^= 0xFF  # same size, one flipped byte
    target.write_bytes(bytes(data))
    with pytest.raises(ModelCorrupt) as info:
        verify_model(spec, tmp_path)
    assert str(target) in str(info.value) and spec.sha256 in str(info.value)


def test_truncated_and_missing_files(manifest, models_dir, tmp_path):
    spec = manifest.get("minifasnet_v2")
    (tmp_path / spec.file).parent.mkdir(parents=True)
    (tmp_path / spec.file).write_bytes((models_dir / spec.file).read_bytes()[:1000])
    with pytest.raises(ModelCorrupt, match="1000 bytes, expected 1743561"):
        verify_model(spec, tmp_path)
    absent = manifest.get("minifasnet_v1se")
    with pytest.raises(ModelMissing, match=f"file missing: .*{absent.sha256}"):
        verify_model(absent, tmp_path)


def test_license_policy(manifest):
    with pytest.raises(LicenseRefused, match="scrfd_500m"):
        check_license(manifest.get("scrfd_500m"), allow_noncommercial=False)
    check_license(manifest.get("scrfd_500m"), allow_noncommercial=True)
    check_license(manifest.get("yunet_2023mar"), allow_noncommercial=False)


def test_install_copies_verifies_and_is_idempotent(manifest, models_dir, tmp_path):
    target = tmp_path / "models"
    core = [m.name for m in manifest.model if not m.package_source]
    first = install_models(manifest, models_dir, target, core)
    assert {r.status for r in first} == {"installed"}
    assert all(r.ok for r in verify_all(manifest, target, core))
    assert (target / "opencv_zoo" / "LICENSE.face_detection_yunet.txt").is_file()
    again = install_models(manifest, models_dir, target, core)
    assert {r.status for r in again} == {"already_installed"}


def test_corrupt_bundle_never_replaces_a_working_model(manifest, models_dir, tmp_path):
    target = tmp_path / "models"
    install_models(manifest, models_dir, target, ["yunet_2023mar"])
    spec = manifest.get("yunet_2023mar")
    good = (target / spec.file).read_bytes()
    bundle = copy_bundle(models_dir, tmp_path / "usb", manifest, ["yunet_2023mar", "minifasnet_v2"])
    bad = bytearray((bundle / spec.file).read_bytes())
    bad[-1] ^= 0x01
    (bundle / spec.file).write_bytes(bytes(bad))
    (target / spec.file).write_bytes(good[:10])  # the installed copy got damaged: reinstall must be attempted
    results = {r.name: r for r in install_models(manifest, bundle, target, ["yunet_2023mar", "minifasnet_v2"])}
    assert results["yunet_2023mar"].status == "failed" and spec.sha256 in results["yunet_2023mar"].message
    assert (target / spec.file).read_bytes() == good[:10]  # untouched: no bad bytes copied over it
    assert results["minifasnet_v2"].status == "installed"
    assert not list(target.rglob(".*.part")) and not list(target.rglob(".*.verify"))


def test_hashes_kept_across_starts_skip_rehashing_but_never_a_changed_file(manifest, models_dir, tmp_path, monkeypatch):
    """Issue 16 item 10: every start hashed every model again. A file whose size, mtime, ctime and inode are those
    it was verified with is trusted from the cache; a same-size edit with its mtime put back is hashed and refused."""
    import os

    from edge_models import verify

    spec = manifest.get("yunet_2023mar")
    bundle = copy_bundle(models_dir, tmp_path / "models", manifest, ["yunet_2023mar"])
    hashed = []
    real = verify.sha256_file
    monkeypatch.setattr(verify, "sha256_file", lambda path: hashed.append(path) or real(path))
    monkeypatch.setattr(verify, "_verified", {})  # a fresh process
    cache_file = tmp_path / "cache" / "model_hashes.json"
    verify.use_hash_cache(cache_file)
    try:
        verify_model(spec, bundle)
        assert len(hashed) == 1 and cache_file.is_file()
        monkeypatch.setattr(verify, "_verified", {})  # the next start
        verify.use_hash_cache(cache_file)
        verify_model(spec, bundle)
        assert len(hashed) == 1  # trusted from the cache
        target = bundle / spec.file
        before = target.stat()
        data = bytearray(target.read_bytes())
        data[1000] ^= 0xFF
        target.write_bytes(bytes(data))
        os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))  # the mtime put back
        monkeypatch.setattr(verify, "_verified", {})
        verify.use_hash_cache(cache_file)
        with pytest.raises(ModelCorrupt):
            verify_model(spec, bundle)
        assert len(hashed) == 2
        cache_file.write_text("{not json", encoding="utf-8")  # a damaged cache is an empty one
        verify.use_hash_cache(cache_file)
        target.write_bytes(bytes(data[:1000]) + bytes([data[1000] ^ 0xFF]) + bytes(data[1001:]))
        verify_model(spec, bundle)
        assert len(hashed) == 3
    finally:
        verify.use_hash_cache(None)
