"""delfin_like.common.exception: one base, one base per HTTP class, one leaf per condition."""

import pytest

from delfin_like.common import exception

HTTP_BASES = {
    exception.BadRequest: 400,
    exception.Unauthorized: 401,
    exception.Forbidden: 403,
    exception.NotFound: 404,
    exception.Conflict: 409,
    exception.ServiceUnavailable: 503,
}


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


ALL = sorted(set(_all_subclasses(exception.DelfinLikeException)), key=lambda c: c.__name__)


def test_to_dict():
    e = exception.StorageNotFound("abc")
    assert e.to_dict() == {
        "error_code": "StorageNotFound",
        "error_msg": "Storage abc could not be found.",
        "error_args": ["abc"],
    }
    assert e.code == 404
    assert str(e) == e.msg == "Storage abc could not be found."


def test_to_dict_with_keyword_arguments():
    e = exception.StorageDriverNotFound(vendor="acme", model="x1")
    assert e.to_dict() == {
        "error_code": "StorageDriverNotFound",
        "error_msg": "No driver for vendor 'acme' and model 'x1'.",
        "error_args": [],
    }
    assert e.kwargs == {"vendor": "acme", "model": "x1"}
    assert e.code == 400


def test_several_positional_arguments():
    e = exception.SyncAborted("s1", "storage deleted")
    assert e.msg == "Sync of storage s1 was aborted: storage deleted"
    assert e.to_dict()["error_args"] == ["s1", "storage deleted"]


def test_error_args_are_strings():
    assert exception.InvalidInput(42).to_dict()["error_args"] == ["42"]


def test_no_argument_keeps_the_format_readable():
    assert exception.DatabaseUnavailable().msg == "The database is unavailable."
    assert exception.DelfinLikeException().msg == "An unknown exception occurred."
    assert exception.DelfinLikeException().code == 500


def test_bad_format_arguments_fall_back_to_the_format():
    # a wrong number of arguments must never raise while raising
    e = exception.SyncAborted("only one")
    assert e.msg == exception.SyncAborted._msg_fmt
    e = exception.LockUnavailable(name="storage-1")
    assert e.msg == exception.LockUnavailable._msg_fmt


def test_lock_unavailable_message():
    e = exception.LockUnavailable(name="storage-1", timeout=30)
    assert e.msg == "Could not take the lock storage-1 within 30 s."
    assert e.code == 503


@pytest.mark.parametrize("base, code", HTTP_BASES.items(), ids=lambda v: getattr(v, "__name__", str(v)))
def test_http_bases(base, code):
    assert base.code == code
    assert issubclass(base, exception.DelfinLikeException)


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_every_exception_formats_and_serialises(cls):
    e = cls("x", "y") if "%s" in cls._msg_fmt and cls._msg_fmt.count("%s") == 2 else cls("x")
    body = e.to_dict()
    assert body["error_code"] == cls.__name__
    assert isinstance(body["error_msg"], str) and body["error_msg"]
    assert "%s" not in body["error_msg"] or cls._msg_fmt.count("%(") > 0
    assert cls.code in (400, 401, 403, 404, 405, 409, 413, 500, 503)


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_code_follows_the_http_base(cls):
    bases = [b for b in HTTP_BASES if issubclass(cls, b)]
    assert len(bases) <= 1
    if bases:
        assert cls.code == HTTP_BASES[bases[0]]


@pytest.mark.parametrize(
    "cls, code",
    [
        (exception.InvalidInput, 400),
        (exception.MalformedRequestBody, 400),
        (exception.InvalidCredentials, 400),
        (exception.BackendUnreachable, 400),
        (exception.StorageDriverNotFound, 400),
        (exception.InvalidAccessInfo, 400),
        (exception.StorageBackendError, 400),
        (exception.StorageNotFound, 404),
        (exception.StoragePoolNotFound, 404),
        (exception.VolumeNotFound, 404),
        (exception.TaskNotFound, 404),
        (exception.ResourceNotFound, 404),
        (exception.StorageAlreadyExists, 409),
        (exception.StorageBeingDeleted, 409),
        (exception.SyncAborted, 409),
        (exception.DatabaseUnavailable, 503),
        (exception.MessageBusUnavailable, 503),
        (exception.LockUnavailable, 503),
        (exception.CoordinationUnavailable, 503),
        (exception.CryptoError, 500),
        (exception.MethodNotAllowed, 405),
        (exception.RequestBodyTooLarge, 413),
    ],
    ids=lambda v: getattr(v, "__name__", str(v)),
)
def test_leaf_codes(cls, code):
    assert cls.code == code


def test_leaf_names_are_unique():
    names = [c.__name__ for c in ALL]
    assert len(names) == len(set(names))
