"""Provider profiles: photos uploaded by admins and by the provider's own staff, checked by what the file
holds and stored as a new small WebP without metadata; languages and location beside them; every bad
upload refused with a 4xx that says why, and nothing stored."""
from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from booking.domain.roles import Role
from booking.extensions import db
from booking.models import Provider, ProviderPhoto
from booking.services import photos
from booking.services.errors import Forbidden, Invalid, NotFound, ServiceError
from booking.services.provider_profiles import save_own_profile, tidy_languages
from tests.factories import DEFAULT_PASSWORD, make_provider, make_user
from tests.images import SVG_WITH_SCRIPT, blank_png, camera_jpeg, gif_html_polyglot, picture, png_html_polyglot

MB = 1024 * 1024


def stored_image(photo: ProviderPhoto) -> Image.Image:
    return Image.open(io.BytesIO(photo.data))


# --- the clinic -----------------------------------------------------------------------------------


@pytest.fixture
def clinic(app):  # type: ignore[no-untyped-def]
    """Two providers, each with its staff user; an admin and a patient."""
    own, other = make_user(Role.STAFF, full_name="Dr Amelia Hart"), make_user(Role.STAFF)
    return {"admin": make_user(Role.ADMIN), "patient": make_user(Role.PATIENT), "own": own, "other": other,
            "provider": make_provider(user=own), "other_provider": make_provider(user=other)}


def login(app, user):  # type: ignore[no-untyped-def]
    client = app.test_client()
    assert client.post("/auth/login", data={"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 303
    return client


def upload(client, url: str, data: bytes, filename: str = "me.jpg", content_type: str = "image/jpeg",  # type: ignore[no-untyped-def]
           **fields: str):
    """POST the file as a browser would. Encoded here: the test client would spool a large one to a
    temporary file that it leaves open."""
    boundary, body = encode_multipart(
        {**fields, "photo": FileStorage(io.BytesIO(data), filename=filename, content_type=content_type)})
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def photo_rows() -> list[tuple]:  # type: ignore[type-arg]
    db.session.rollback()
    photos_table, providers = ProviderPhoto.__table__, Provider.__table__
    rows = [tuple(r) for r in db.session.execute(sa.select(photos_table).order_by(photos_table.c.provider_id))]
    hashes = [tuple(r) for r in db.session.execute(sa.select(providers.c.id, providers.c.photo_hash).order_by(providers.c.id))]
    db.session.rollback()
    return rows + hashes


def photo_of(provider_id: int) -> ProviderPhoto | None:
    db.session.rollback()  # past any read snapshot SQLite still holds from before the request wrote
    return db.session.get(ProviderPhoto, provider_id)


def provider_now(provider_id: int) -> Provider:
    db.session.rollback()
    return db.session.get(Provider, provider_id)


def csrf_token(page) -> str:  # type: ignore[no-untyped-def]
    field = re.search(r'<input[^>]*name="csrf_token"[^>]*>', page.get_data(as_text=True)).group(0)
    return re.search(r'value="([^"]+)"', field).group(1)


def admin_url(provider_id: int) -> str:
    return f"/admin/providers/{provider_id}/photo"


# --- who may --------------------------------------------------------------------------------------


def test_an_admin_and_the_providers_own_staff_may_set_and_remove_its_photo(clinic):  # type: ignore[no-untyped-def]
    provider_id = clinic["provider"].id
    for actor in ("admin", "own"):
        stored = photos.set_photo(clinic[actor].id, provider_id, photos.Upload(picture(), "me.jpg", "image/jpeg"))
        assert photo_of(provider_id).sha256 == stored.sha256 == db.session.get(Provider, provider_id).photo_hash
        photos.remove_photo(clinic[actor].id, provider_id)
        assert photo_of(provider_id) is None and db.session.get(Provider, provider_id).photo_hash is None


@pytest.mark.parametrize("actor", ["other", "patient"])
def test_another_providers_staff_and_patients_change_no_photo(clinic, actor):  # type: ignore[no-untyped-def]
    provider_id = clinic["provider"].id
    photos.set_photo(clinic["own"].id, provider_id, photos.Upload(picture()))
    before = photo_rows()
    with pytest.raises(Forbidden):
        photos.set_photo(clinic[actor].id, provider_id, photos.Upload(picture((300, 300), "PNG"), "x.png"))
    with pytest.raises(Forbidden):
        photos.remove_photo(clinic[actor].id, provider_id)
    with pytest.raises(Forbidden):  # asked before the file is even looked at
        photos.set_photo(clinic[actor].id, provider_id, photos.Upload(b"not an image"))
    assert photo_rows() == before


def test_a_switched_off_account_changes_no_photo_and_a_missing_provider_is_told(clinic):  # type: ignore[no-untyped-def]
    clinic["own"].active = False
    db.session.commit()
    with pytest.raises(Forbidden):
        photos.set_photo(clinic["own"].id, clinic["provider"].id, photos.Upload(picture()))
    with pytest.raises(NotFound, match="^There is no such provider.$"):
        photos.set_photo(clinic["admin"].id, 999_999, photos.Upload(picture()))
    with pytest.raises(NotFound, match="^There is no such provider.$"):
        photos.remove_photo(clinic["admin"].id, 999_999)
    assert photo_of(clinic["provider"].id) is None


def test_removing_a_photo_that_is_not_there_changes_nothing(clinic):  # type: ignore[no-untyped-def]
    before = photo_rows()
    assert photos.remove_photo(clinic["own"].id, clinic["provider"].id).photo_hash is None
    assert photo_rows() == before


def test_the_routes_refuse_other_staff_and_patients_and_send_visitors_to_log_in(app, clinic):  # type: ignore[no-untyped-def]
    provider_id = clinic["provider"].id
    before = photo_rows()
    for actor in ("other", "patient"):
        client = login(app, clinic[actor])
        assert upload(client, admin_url(provider_id), picture()).status_code == 403
        assert client.post(f"{admin_url(provider_id)}/delete").status_code == 403
    patient = login(app, clinic["patient"])
    assert upload(patient, "/staff/profile/photo", picture()).status_code == 403
    visitor = app.test_client()
    answer = upload(visitor, admin_url(provider_id), picture())
    assert answer.status_code == 302 and "/auth/login" in answer.headers["Location"]
    assert photo_rows() == before
    # Staff reach only their own provider: the staff route names none, and B's upload lands on B.
    assert upload(login(app, clinic["other"]), "/staff/profile/photo", picture()).status_code == 303
    assert photo_of(provider_id) is None and photo_of(clinic["other_provider"].id) is not None


def test_the_admin_uploads_in_the_provider_editor_and_sees_the_photo_there(app, clinic):  # type: ignore[no-untyped-def]
    admin, provider_id = login(app, clinic["admin"]), clinic["provider"].id
    editor = admin.get(f"/admin/providers/{provider_id}").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in editor and "Remove the photo" not in editor
    answer = upload(admin, admin_url(provider_id), picture())
    assert answer.status_code == 303 and answer.headers["Location"].endswith(f"/admin/providers/{provider_id}")
    photo = photo_of(provider_id)
    editor = admin.get(f"/admin/providers/{provider_id}").get_data(as_text=True)
    assert f"/providers/{provider_id}/photo/{photo.sha256}.webp" in editor and "Remove the photo" in editor
    assert admin.post(f"{admin_url(provider_id)}/delete").status_code == 303
    assert photo_of(provider_id) is None
    editor = admin.get(f"/admin/providers/{provider_id}").get_data(as_text=True)
    assert "/photo/" not in editor and '<div class="avatar" aria-hidden="true">AH</div>' in editor


def test_staff_keep_their_own_photo_bio_and_languages_in_the_staff_area(app, clinic):  # type: ignore[no-untyped-def]
    staff = login(app, clinic["own"])
    page = staff.get("/staff/profile")
    assert page.status_code == 200 and "My profile" in page.get_data(as_text=True)
    assert upload(staff, "/staff/profile/photo", camera_jpeg()).status_code == 303
    saved = staff.post("/staff/profile", data={"bio": "Sees children too.", "languages": "english, Welsh,English"})
    assert saved.status_code == 303
    provider = provider_now(clinic["provider"].id)
    assert (provider.bio, provider.languages) == ("Sees children too.", "English, Welsh")
    page = staff.get("/staff/profile").get_data(as_text=True)
    assert f"photo/{provider.photo_hash}.webp" in page and "English, Welsh" in page
    assert staff.post("/staff/profile/photo/delete").status_code == 303
    assert photo_of(provider.id) is None


def test_a_staff_profile_too_long_is_refused_with_the_fields_message(app, clinic):  # type: ignore[no-untyped-def]
    staff = login(app, clinic["own"])
    answer = staff.post("/staff/profile", data={"bio": "x" * 2001, "languages": "y" * 41})
    body = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "2,000 characters" in body and "each up to 40 characters" in body
    assert "x" * 2001 in body  # what was typed is kept to correct
    assert provider_now(clinic["provider"].id).bio is None


def test_an_admin_is_sent_to_the_provider_editor_and_a_staff_member_with_no_provider_told(app, clinic):  # type: ignore[no-untyped-def]
    answer = login(app, clinic["admin"]).get("/staff/profile")
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/admin/providers")
    newcomer = login(app, make_user(Role.STAFF))
    answer = newcomer.get("/staff/profile")
    assert answer.status_code == 404 and "administrator links it" in answer.get_data(as_text=True)
    assert upload(newcomer, "/staff/profile/photo", picture()).status_code == 404


def test_the_profile_service_checks_who_saves(clinic):  # type: ignore[no-untyped-def]
    with pytest.raises(Forbidden):
        save_own_profile(clinic["other"].id, clinic["provider"].id, bio="Not mine", languages=None)
    with pytest.raises(NotFound):
        save_own_profile(clinic["admin"].id, 999_999, bio="Nobody", languages=None)
    with pytest.raises(Invalid):
        save_own_profile(clinic["own"].id, clinic["provider"].id, bio="z" * 2001, languages=None)
    saved = save_own_profile(clinic["admin"].id, clinic["provider"].id, bio="  Kind.  ", languages="  ")
    assert (saved.bio, saved.languages) == ("Kind.", None)


# --- what is stored -------------------------------------------------------------------------------


def test_a_stored_photo_keeps_no_exif_gps_or_comment_and_is_turned_upright(clinic):  # type: ignore[no-untyped-def]
    original = Image.open(io.BytesIO(camera_jpeg()))
    assert original.getexif().get_ifd(0x8825)  # the upload does carry a position
    photo = photos.set_photo(clinic["own"].id, clinic["provider"].id, photos.Upload(camera_jpeg(), "IMG_0001.JPG"))
    image = stored_image(photo_of(clinic["provider"].id))
    assert image.format == "WEBP" and photo.content_type == "image/webp"
    assert not image.getexif() and not image.getexif().get_ifd(0x8825)
    assert not {"exif", "xmp", "icc_profile", "comment"} & image.info.keys()
    assert b"Exif" not in photo.data and b"PhoneMaker" not in photo.data and b"taken at home" not in photo.data
    # 1600 x 1200 turned a quarter (orientation 6) and fitted within 400 x 400: red on top, blue below.
    assert image.size == (photo.width, photo.height) == (300, 400)
    top, bottom = image.convert("RGB").getpixel((150, 20)), image.convert("RGB").getpixel((150, 380))
    assert top[0] > 200 > top[2] and bottom[2] > 200 > bottom[0]


@pytest.mark.parametrize("fmt,name,kind,mode", [
    ("JPEG", "face.jpeg", "image/jpeg", "RGB"),
    ("PNG", "face.png", "image/png", "RGBA"),
    ("WEBP", "face.webp", "image/webp", "RGB"),
])
def test_jpeg_png_and_webp_are_taken_and_stored_as_webp_within_400_pixels(clinic, fmt, name, kind, mode):  # type: ignore[no-untyped-def]
    photo = photos.set_photo(clinic["own"].id, clinic["provider"].id,
                             photos.Upload(picture((900, 1800), fmt, mode=mode), name, kind))
    image = stored_image(photo)
    assert (image.format, image.size) == ("WEBP", (200, 400))
    assert image.mode == ("RGBA" if mode == "RGBA" else "RGB")  # a transparent PNG stays transparent
    assert photo.sha256 == hashlib.sha256(photo.data).hexdigest()


@pytest.mark.parametrize("mode", ["LA", "P"])
def test_a_grey_or_palette_png_with_transparency_stays_transparent(clinic, mode):  # type: ignore[no-untyped-def]
    image = Image.new("LA", (80, 40), (128, 255))
    image.paste((0, 0), (0, 0, 40, 40))  # the left half see-through
    out = io.BytesIO()
    (image if mode == "LA" else image.convert("RGBA").convert("P")).save(
        out, "PNG", **({} if mode == "LA" else {"transparency": 0}))
    stored = stored_image(photos.set_photo(clinic["own"].id, clinic["provider"].id, photos.Upload(out.getvalue())))
    assert stored.mode == "RGBA" and stored.getpixel((10, 20))[3] == 0


def test_a_small_photo_is_not_enlarged_and_a_name_or_type_that_says_nothing_is_fine(clinic):  # type: ignore[no-untyped-def]
    for name, kind in ((None, None), ("photo", "application/octet-stream"), ("face.", ""),
                       ("C:\\Users\\me\\face.JPG", "image/jpeg; charset=binary"),
                       ("C:\\my.photos\\face", "Image/JPEG"), ("IMG.2024.jpeg", "image/jpeg ; charset=binary")):
        upload_ = photos.Upload(picture((120, 80)), name, kind)
        assert stored_image(photos.set_photo(clinic["own"].id, clinic["provider"].id, upload_)).size == (120, 80)


def test_a_40_megapixel_photo_is_taken_and_one_a_little_larger_refused_before_decoding(clinic):  # type: ignore[no-untyped-def]
    taken = photos.prepare(photos.Upload(blank_png(8000, 5000), "big.png", "image/png"))  # exactly 40,000,000
    assert (taken.width, taken.height) == (400, 250)
    with pytest.raises(Invalid, match="too many pixels"):
        photos.prepare(photos.Upload(blank_png(6325, 6325), "big.png"))  # 40,005,625: Pillow's warning, refused
    assert photos.prepare(photos.Upload(blank_png(12_000, 1), "line.png")).width == 400
    with pytest.raises(Invalid, match="12,000 on a side") as refused:
        photos.prepare(photos.Upload(blank_png(12_001, 1), "line.png"))
    assert refused.value.field == "photo"


def test_a_file_of_exactly_5_mb_is_taken_and_one_byte_more_is_refused():  # type: ignore[no-untyped-def]
    image = picture((64, 64))
    exactly = image + b"\0" * (photos.MAX_UPLOAD_BYTES - len(image))  # a JPEG ignores what follows its end
    assert photos.prepare(photos.Upload(exactly)).width == 64
    with pytest.raises(photos.PhotoTooLarge):
        photos.prepare(photos.Upload(exactly + b"\0"))
    read = photos.read_upload(io.BytesIO(exactly + b"\0" * MB), "me.jpg", "image/jpeg")
    assert len(read.data) == photos.MAX_UPLOAD_BYTES + 1  # enough to tell, no more


# --- bad uploads ----------------------------------------------------------------------------------

BAD_UPLOADS: dict[str, tuple[Callable[[], bytes], str, str, int, str]] = {
    # name: (the file, its name, its content type, status, words of the message)
    "20000 x 20000 PNG bomb": (lambda: blank_png(20_000, 20_000), "small.png", "image/png", 422, "too many pixels"),
    "GIF and HTML polyglot": (gif_html_polyglot, "cat.gif", "image/gif", 422, "not a JPEG, PNG or WebP"),
    "GIF named as a JPEG": (gif_html_polyglot, "cat.jpg", "image/jpeg", 422, "not a JPEG, PNG or WebP"),
    "PNG with a web page after it": (png_html_polyglot, "face.png", "image/png", 422, "web page or script"),
    "PNG named .jpg": (lambda: picture((50, 50), "PNG"), "face.jpg", "image/jpeg", 422, "a PNG image but its name"),
    "PNG sent as a JPEG": (lambda: picture((50, 50), "PNG"), "face.png", "image/jpeg", 422, "end in .png and"),
    "JPEG sent as a PNG": (picture, "face", "image/png", 422, "is a JPEG image but its name or type says otherwise. "
                                                          "Rename it to end in .jpg"),
    "WebP named .html": (lambda: picture((50, 50), "WEBP"), "face.html", "text/html", 422, "is a WebP image but"),
    "WebP named .webp.html": (lambda: picture((50, 50), "WEBP"), "face.webp.html", "image/webp", 422, "a WebP"),
    "SVG with a script": (lambda: SVG_WITH_SCRIPT, "logo.svg", "image/svg+xml", 422, "SVG drawings are not"),
    "SVG named .png": (lambda: SVG_WITH_SCRIPT, "logo.png", "image/png", 422, "SVG drawings are not"),
    "text": (lambda: b"Dear clinic, here is my photo.", "me.txt", "text/plain", 422, "not a JPEG, PNG or WebP"),
    "HTML page": (lambda: b"<html><script>alert(1)</script></html>", "me.jpg", "image/jpeg", 422, "not a JPEG"),
    "JPEG cut short": (lambda: picture()[:3000], "me.jpg", "image/jpeg", 422, "could not be read"),
    "PNG cut short in its header": (lambda: picture(fmt="PNG")[:20], "me.png", "image/png", 422, "could not be read"),
    "WebP cut short": (lambda: picture(fmt="WEBP")[:60], "me.webp", "image/webp", 422, "could not be read"),
    "empty file": (lambda: b"", "me.jpg", "image/jpeg", 422, "Choose a photo"),
    "over 5 MB": (lambda: picture((64, 64)) + b"\0" * photos.MAX_UPLOAD_BYTES, "me.jpg", "image/jpeg", 413,
                  "larger than 5 MB"),
}


@pytest.mark.parametrize("name", BAD_UPLOADS)
def test_a_bad_upload_is_refused_with_its_reason_and_nothing_is_stored(app, clinic, name):  # type: ignore[no-untyped-def]
    make, filename, content_type, status, words = BAD_UPLOADS[name]
    provider_id = clinic["provider"].id
    photos.set_photo(clinic["own"].id, provider_id, photos.Upload(picture()))  # the photo already there stays
    before = photo_rows()
    with pytest.raises(ServiceError, match=re.escape(words)) as refused:
        photos.set_photo(clinic["own"].id, provider_id, photos.Upload(make(), filename, content_type))
    assert (refused.value.status, refused.value.field) == (status, "photo")
    for client, url in ((login(app, clinic["admin"]), admin_url(provider_id)),
                        (login(app, clinic["own"]), "/staff/profile/photo")):
        answer = upload(client, url, make(), filename, content_type)
        body = answer.get_data(as_text=True)
        assert answer.status_code == status, (name, url)
        assert words in body.replace("&#34;", '"') and 'role="alert"' in body
        assert photo_rows() == before, url


def test_no_file_at_all_is_told_to_choose_one(app, clinic):  # type: ignore[no-untyped-def]
    answer = login(app, clinic["admin"]).post(admin_url(clinic["provider"].id), data={},
                                              content_type="multipart/form-data")
    assert answer.status_code == 422 and "Choose a photo to upload." in answer.get_data(as_text=True)


@pytest.mark.parametrize("csrf", [False, True], ids=["csrf-off", "csrf-on"])
def test_a_50_mb_body_is_refused_with_413_before_anything_reads_it(make_app, csrf):  # type: ignore[no-untyped-def]
    app = make_app(WTF_CSRF_ENABLED=csrf)
    with app.app_context():
        staff = make_user(Role.STAFF)
        provider = make_provider(user=staff)
        client = login(app, staff) if not csrf else app.test_client()
        if csrf:
            token = csrf_token(client.get("/auth/login"))
            client.post("/auth/login", data={"email": staff.email, "password": DEFAULT_PASSWORD, "csrf_token": token})
            token = csrf_token(client.get("/staff/profile"))
            fits = upload(client, "/staff/profile/photo", picture(), csrf_token=token)
            assert fits.status_code == 303  # a photo of a few MB passes the body limit, CSRF check and all
            photos.remove_photo(staff.id, provider.id)
        before = photo_rows()
        for url in ("/staff/profile/photo", f"/admin/providers/{provider.id}/photo"):
            answer = upload(client, url, b"\xff\xd8" + b"\0" * (50 * MB))
            assert answer.status_code == 413, url
            assert "Photos" in answer.get_data(as_text=True) or "5 MB" in answer.get_data(as_text=True)
        assert photo_rows() == before
        # Every other form keeps the small limit.
        assert client.post("/staff/profile", data={"bio": "x" * (2 * MB)}).status_code == 413


# --- serving and showing --------------------------------------------------------------------------


def test_a_photo_is_served_from_its_hashed_address_for_a_year(app, clinic):  # type: ignore[no-untyped-def]
    photo = photos.set_photo(clinic["own"].id, clinic["provider"].id, photos.Upload(picture()))
    url = f"/providers/{clinic['provider'].id}/photo/{photo.sha256}.webp"
    answer = app.test_client().get(url)
    assert answer.status_code == 200 and answer.data == photo.data
    assert answer.headers["Content-Type"] == "image/webp"
    assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert "Set-Cookie" not in answer.headers
    again = app.test_client().get(url, headers={"If-None-Match": answer.headers["ETag"]})
    assert again.status_code == 304 and not again.data
    # A new photo has a new address; the old one is gone rather than showing the new bytes for a year.
    old = photo.sha256
    new = photos.set_photo(clinic["admin"].id, clinic["provider"].id, photos.Upload(picture((500, 500), "PNG"), "a.png")).sha256
    assert new != old
    assert app.test_client().get(url).status_code == 404
    assert app.test_client().get(url.replace(old, new)).status_code == 200
    for wrong in (f"/providers/{clinic['other_provider'].id}/photo/{new}.webp",
                  f"/providers/{clinic['provider'].id}/photo/{'0' * 64}.webp",
                  f"/providers/{clinic['provider'].id}/photo/{new[:63]}.webp"):
        assert app.test_client().get(wrong).status_code == 404, wrong


def test_cards_and_the_calendar_show_photo_languages_and_location_or_initials(app, clinic):  # type: ignore[no-untyped-def]
    provider, other = clinic["provider"], clinic["other_provider"]
    provider.languages, provider.location, provider.bio = "English, Polish", "Room 4, second floor", "Treats knees."
    db.session.commit()
    photo = photos.set_photo(clinic["own"].id, provider.id, photos.Upload(picture()))
    patient = login(app, clinic["patient"])
    directory = patient.get("/book/").get_data(as_text=True)
    cards = {part.split('"', 1)[0]: part for part in directory.split('data-provider-id="')[1:]}
    mine, theirs = cards[str(provider.id)], cards[str(other.id)]
    assert f'src="/providers/{provider.id}/photo/{photo.sha256}.webp"' in mine and 'class="avatar"' not in mine
    assert "English, Polish" in mine and "Room 4, second floor" in mine and "Treats knees." in mine
    assert "<img" not in theirs and ">" + other.name.split()[0][0] in theirs.replace(" ", "")  # initials
    assert app.config["CLINIC_ADDRESS"] in theirs  # no room given: the clinic's own address
    calendar = patient.get(f"/book/{provider.id}").get_data(as_text=True)
    header = calendar.split('class="booking-head"', 1)[1].split("</header>", 1)[0]
    assert f"/photo/{photo.sha256}.webp" in header and "English, Polish" in header and "Room 4" in header
    other_page = patient.get(f"/book/{other.id}").get_data(as_text=True)
    other_header = other_page.split('class="booking-head"', 1)[1].split("</header>", 1)[0]
    assert "<img" not in other_header and app.config["CLINIC_ADDRESS"] in other_header


def test_the_admin_sets_languages_and_a_location_or_leaves_the_clinics_address(app, clinic):  # type: ignore[no-untyped-def]
    admin, provider = login(app, clinic["admin"]), clinic["provider"]
    form = {"user_id": provider.user_id, "specialty_id": provider.specialty_id,
            "service_ids": [s.id for s in provider.services], "timezone": provider.timezone,
            "languages": "french ; Arabic, french", "location": "  Branch\nNorth  "}
    assert admin.post(f"/admin/providers/{provider.id}", data=form).status_code == 303
    provider = provider_now(provider.id)
    assert (provider.languages, provider.location) == ("French, Arabic", "Branch North")
    editor = admin.get(f"/admin/providers/{provider.id}").get_data(as_text=True)
    assert 'value="French, Arabic"' in editor and 'value="Branch North"' in editor
    refused = admin.post(f"/admin/providers/{provider.id}", data={**form, "location": "L" * 201, "languages": "x" * 201})
    assert refused.status_code == 422 and "200 characters" in refused.get_data(as_text=True)
    assert admin.post(f"/admin/providers/{provider.id}", data={**form, "location": " "}).status_code == 303
    assert provider_now(provider.id).location is None


@pytest.mark.parametrize("typed,kept", [
    ("english", "English"),
    ("English, polish", "English, Polish"),
    ("  english ,ENGLISH;  Polish  ", "English, Polish"),
    ("British Sign Language, iSL", "British Sign Language, iSL"),
    ("", None),
    (None, None),
    (" , ; ", None),
])
def test_languages_are_kept_as_a_tidy_list(typed, kept):  # type: ignore[no-untyped-def]
    assert tidy_languages(typed) == kept
