"""Recording metadata as model input: encodings, fitted on training recordings, errors."""

import numpy as np
import pandas as pd
import pytest

from sonoflow.corpus.metadata import encode, fit_encoder, metadata_vector, recording_vectors

SPEC = {
    "latitude": "lat",
    "longitude": "lon",
    "datetime": "when",
    "numeric": ["temp"],
    "categorical": ["site"],
}


@pytest.fixture
def table():
    return pd.DataFrame(
        {
            "recording": ["a", "b", "c"],
            "lat": [0.0, 90.0, 51.3],
            "lon": [0.0, 0.0, 179.9],
            "when": ["2026-01-01T00:00", "2026-07-02T12:00", "2026-12-31T23:59"],
            "temp": [10.0, 20.0, np.nan],
            "site": ["east", "west", "north"],
        }
    ).set_index("recording")


def test_encodings(table):
    encoder = fit_encoder(table.loc[["a", "b"]], SPEC)
    assert encoder["width"] == 3 + 4 + 1 + 2  # unit vector, cyclic time, temp, two sites
    vectors = encode(table, encoder)
    np.testing.assert_allclose(np.linalg.norm(vectors[:, :3], axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(vectors[0, :3], [1, 0, 0], atol=1e-6)  # equator, Greenwich
    np.testing.assert_allclose(vectors[1, :3], [0, 0, 1], atol=1e-6)  # north pole
    # 1 January midnight and 31 December 23:59 are neighbours on both cycles
    np.testing.assert_allclose(vectors[0, 3:7], vectors[2, 3:7], atol=0.03)
    np.testing.assert_allclose(vectors[:, 7], [-1.0, 1.0, 0.0])  # standardised; missing: mean
    np.testing.assert_array_equal(vectors[:, 8:], [[1, 0], [0, 1], [0, 0]])  # north unseen


def test_missing_rows_and_columns_name_the_file_and_key(tmp_path, table):
    path = tmp_path / "meta.csv"
    table.reset_index().to_csv(path, index=False)
    encoder = fit_encoder(table, SPEC)
    with pytest.raises(ValueError, match=r"config key benchmarks.x.metadata\): no row .*'zz'"):
        recording_vectors(["a", "zz"], path, encoder, "benchmarks.x.metadata")
    with pytest.raises(ValueError, match="metadata column"):
        fit_encoder(table, {**SPEC, "numeric": ["humidity"]})
    with pytest.raises(ValueError, match="config key benchmarks.x.metadata: a metadata CSV"):
        metadata_vector({"metadata_encoder": encoder}, "a", None, "benchmarks.x.metadata")
    assert metadata_vector({}, "a", None, "benchmarks.x.metadata") is None
    np.testing.assert_allclose(
        metadata_vector({"metadata_encoder": encoder}, "b", path, "k"), encode(table, encoder)[1]
    )
