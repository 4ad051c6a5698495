from typing import Any

from moraspar.models import Role


def test_user_search_folds_swedish_letters(
    client: Any, auth: Any, make_user: Any, make_school: Any
) -> None:
    school = make_school(name="Östra skolan i Älvdalen")
    make_user(Role.TEACHER, organisation=school, display_name="Åsa Öberg")
    make_user(Role.TEACHER, display_name="Bo Berg")
    auth.login(Role.ADMIN)
    for query in ("östra", "ÖSTRA", "älvdalen", "åsa", "ÖBERG"):
        page = client.get("/admin/users", query_string={"q": query})
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "Åsa Öberg" in html, query
        assert "Bo Berg" not in html, query
