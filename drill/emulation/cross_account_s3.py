"""S3 refuses another account's bucket unless its policy grants the caller.

AWS: a bucket belongs to one account, and a request from another account is
allowed only by the bucket policy (or an ACL); the log-archive bucket of an
organization trail grants cloudtrail.amazonaws.com, not the management account,
so the management account's HeadBucket answers 403 (Amazon S3 User Guide,
"Bucket owner granting cross-account bucket permissions").

moto 5.2: any account reads and writes any other account's bucket, unless
MOTO_S3_ALLOW_CROSSACCOUNT_ACCESS is "false"; then it answers AccessDenied,
which is what a log-archive bucket answers the management account. moto reads
the variable on every request, so it can be switched for one test or play.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

_SWITCH = "MOTO_S3_ALLOW_CROSSACCOUNT_ACCESS"


@contextmanager
def s3_refuses_other_accounts() -> Iterator[None]:
    saved = os.environ.get(_SWITCH)
    os.environ[_SWITCH] = "false"
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(_SWITCH, None)
        else:
            os.environ[_SWITCH] = saved
