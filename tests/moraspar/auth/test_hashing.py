"""Production hashes passwords at full strength; the suite uses the cheap profile."""

from moraspar.auth import services
from moraspar.config import defaults


def test_production_default_is_rfc_9106_low_memory(tmp_path):
    assert defaults(tmp_path)["PASSWORD_HASH_PROFILE"] == "RFC_9106_LOW_MEMORY"
    services.use_hash_profile("RFC_9106_LOW_MEMORY")
    try:
        assert services.hash_parameters() == (3, 65536, 4)
        digest = services.hash_password("correct horse battery")
        assert digest.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    finally:
        services.use_hash_profile("CHEAPEST")


def test_a_hash_from_another_profile_still_verifies(make_user, db):
    services.use_hash_profile("RFC_9106_LOW_MEMORY")
    strong = services.hash_password("correct horse battery")
    services.use_hash_profile("CHEAPEST")
    user = make_user(password_hash=strong)
    signed_in = services.authenticate(
        db, email=user.email, password="correct horse battery"
    )
    assert signed_in.id == user.id
