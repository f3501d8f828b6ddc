import numpy as np
import pandas as pd
import pytest

from behavior_soup import schema
from behavior_soup.errors import BehaviorSoupError, InvalidIdError, TableFormatError


@pytest.mark.parametrize("bad", ["", "a/b", "a\\b", "x\x00y", ".", "..", " m1", "m1 ", True, 1.5, None])
def test_validate_id_rejects(bad):
    with pytest.raises(InvalidIdError) as ei:
        schema.validate_id(bad, "animal_id")
    assert "expected" in str(ei.value) and "animal_id" in str(ei.value)
    assert isinstance(ei.value, ValueError) and isinstance(ei.value, BehaviorSoupError)


def test_validate_id_accepts():
    assert schema.validate_id("m1", "animal_id") == "m1"
    assert schema.validate_id(7, "session_id") == "7"
    assert schema.validate_id("2024-01-05", "session_id") == "2024-01-05"


@pytest.mark.parametrize(("given", "expected"), [(7, 7), ("007", 7), (np.int64(8), 8), (0, 0)])
def test_trial_id(given, expected):
    assert schema.validate_trial_id(given) == expected


@pytest.mark.parametrize("bad", [-1, "7a", "", True, 1.0, None])
def test_trial_id_rejects(bad):
    with pytest.raises(InvalidIdError):
        schema.validate_trial_id(bad)


def test_exp_type_registry():
    assert schema.validate_exp_type(None) == ""
    assert schema.validate_exp_type("table") == "table"
    with pytest.raises(InvalidIdError, match="expected exp_type to be one of"):
        schema.validate_exp_type("tabel")
    schema.register_exp_type("maze", "a maze")
    try:
        assert schema.validate_exp_type("maze") == "maze"
    finally:
        schema.EXP_TYPES.pop("maze")
    with pytest.raises(ValueError):
        schema.register_exp_type("Bad Name", "x")


def test_json_columns_roundtrip_without_aliasing():
    s = pd.Series([{"a": 1, "b": [1, 2]}, {}, None, {"a": 1, "b": [1, 2]}])
    enc = schema.encode_json_column(schema.coerce(pd.DataFrame({"model_params": s}))["model_params"], "model_params")
    assert enc.tolist() == ['{"a":1,"b":[1,2]}', "{}", "{}", '{"a":1,"b":[1,2]}']
    dec = schema.decode_json_column(enc, "model_params")
    assert dec.tolist() == [{"a": 1, "b": [1, 2]}, {}, {}, {"a": 1, "b": [1, 2]}]
    dec[0]["b"].append(3)
    assert dec[3]["b"] == [1, 2]
    with pytest.raises(TableFormatError):
        schema.decode_json_column(pd.Series(["{bad"]), "model_params")


def test_json_rejects_objects():
    s = pd.Series([{"a": object()}])
    with pytest.raises(ValueError, match="JSON"):
        schema.encode_json_column(s, "model_params")


def test_coerce_adds_columns_and_keeps_user_columns():
    df = schema.coerce(pd.DataFrame({"uuid": ["u"], "trial_id": [3], "mine": [1.5]}))
    assert list(df.columns[: len(schema.COLUMNS)]) == list(schema.COLUMNS)
    assert df["mine"].tolist() == [1.5]
    assert df.loc[0, "model_params"] == {} and df.loc[0, "animal_id"] == ""
    assert str(df["added_time"].dtype).startswith("datetime64")


def test_migrate_refuses_newer():
    with pytest.raises(TableFormatError, match="schema version"):
        schema.migrate(schema.empty_table(), schema.SCHEMA_VERSION + 1)


def test_coerce_returns_a_conforming_table_itself():
    df = schema.coerce(pd.DataFrame({"uuid": ["u", "v"], "trial_id": [3, 4]}))
    assert schema.coerce(df) is df
    df.loc[0, "notes"] = 5  # a user edit that breaks the schema is repaired in a new frame
    fixed = schema.coerce(df)
    assert fixed is not df and fixed["notes"].tolist() == ["5", ""]


def test_from_columns_defaults_do_not_alias():
    df = schema.from_columns(3, {"trial_id": np.arange(3, dtype=np.int64)})
    assert list(df.columns) == list(schema.COLUMNS)
    pd.testing.assert_frame_equal(df, schema.coerce(df))
    df.loc[0, "model_params"]["x"] = 1
    assert df.loc[1, "model_params"] == {} and df.loc[2, "behavior_run"] == {}
    with pytest.raises(KeyError, match="mine"):
        schema.from_columns(1, {"mine": np.zeros(1)})
