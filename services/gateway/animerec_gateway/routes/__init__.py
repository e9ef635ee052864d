"""One router module per resource of the public and admin API."""

import re

from ..fastproxy import GetLane
from ..schemas import ColdStartRequest
from .anime import ANIME_ID_MAX, ANIME_ID_MIN
from .users import USER_ID_MAX, USER_ID_MIN

# The hot proxy routes the fast lane may serve (fastproxy.py); ids as the routes bound them.
FAST_GET_LANES = [
    GetLane("/api/v1/anime/{anime_id}/similar", re.compile(r"/api/v1/anime/(\d{1,12})/similar"), "recommender",
            "/anime/{id}/similar", ANIME_ID_MIN, ANIME_ID_MAX),
    GetLane("/api/v1/users/{user_id}/recommendations", re.compile(r"/api/v1/users/(\d{1,12})/recommendations"),
            "recommender", "/users/{id}/recommendations", USER_ID_MIN, USER_ID_MAX),
    GetLane("/api/v1/anime", re.compile(r"/api/v1/anime"), "recommender", "/anime", 0, 0),
]
FAST_POST_LANES = {"/api/v1/recommendations": ("recommender", "/recommendations", ColdStartRequest)}
