from datetime import UTC

import pytest
from hypothesis import given
from hypothesis import strategies as st

from socialens.errors import RecordError
from socialens.ingest.values import (
    normalize_hashtag,
    normalize_mention,
    parse_bool,
    parse_int,
    parse_time,
    platform_of,
)


@given(st.datetimes(timezones=st.timezones()))
def test_parse_time_roundtrips_any_aware_time(dt):
    try:
        text = dt.isoformat()
        expected = dt.astimezone(UTC)
    except (OverflowError, ValueError):
        return
    assert parse_time(text, "t") == expected


def test_parse_time_errors_name_the_field():
    with pytest.raises(RecordError) as e:
        parse_time("2017-13-45", "created_at")
    assert e.value.field == "created_at"
    with pytest.raises(RecordError, match="--timezone"):
        parse_time("2017-01-01 10:00", "observed_at")


def test_parse_bool_and_int():
    assert parse_bool("Yes", "x") is True and parse_bool("", "x", default=False) is False
    with pytest.raises(RecordError):
        parse_bool("maybe", "x")
    assert parse_int("12.0", "n") == 12 and parse_int("NA", "n") is None
    for bad in ("1.5", "-3", "abc"):
        with pytest.raises(RecordError):
            parse_int(bad, "n")


def test_normalizers():
    assert normalize_hashtag("#ÉtéFun") == "étéfun"
    assert normalize_mention("@SenAlexander") == "senalexander"
    assert normalize_mention("twitter:123") == "twitter:123"
    assert platform_of("bluesky:did:plc:abc", "account_id") == "bluesky"
    with pytest.raises(RecordError, match="platform:native_id"):
        platform_of("12345", "account_id")
