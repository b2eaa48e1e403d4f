"""Comments (client messages mirrored into tasks), data-tag entries (time tracking) and files."""
from __future__ import annotations

import requests

from tests.emulators.test_planfix_fixtures import Planfix, demo_seed, pf, pf_server, start  # noqa: F401

FIELDS = "id,dateTime,type,fromType,description,owner,task,isDeleted,isHidden,recipients,files,dataTags"


def upload(pf: Planfix, name: str, data: bytes) -> int:
    answer = pf.http.post(pf.rest + "/file/", files={"file": (name, data, "image/jpeg")})
    assert answer.status_code == 200, answer.text  # the spec says 200, not 201, for uploads
    assert answer.json()["result"] == "success"
    return int(answer.json()["id"])


def test_mirror_a_client_message_with_author_time_and_file(pf: Planfix) -> None:
    photo = upload(pf, "photo.jpg", b"\xff\xd8jpeg")
    answer = pf.post("/task/1001/comments/", {
        "description": "<p><b>Алиса</b> (Telegram): Вот фото</p>", "owner": {"id": "contact:11"},
        "dateTime": {"date": "01-05-2024", "time": "09:58"}, "files": [{"id": photo}],
        "recipients": {"roles": ["assignee"]}})
    assert answer.status_code == 201
    comment_id = answer.json()["id"]
    assert answer.json() == {"result": "success", "id": comment_id}
    got = pf.get(f"/comment/{comment_id}", fields=FIELDS).json()["comment"]
    assert got["owner"] == {"id": "contact:11", "name": "Иванова Алиса"}
    assert got["dateTime"] == {"date": "01-05-2024", "time": "09:58", "datetime": "2024-05-01T09:58Z"}
    assert got["files"] == [{"id": photo, "size": 6, "name": "photo.jpg"}]
    assert got["recipients"]["users"] == [{"id": "user:2", "name": "Смирнова Анна"}]
    assert (got["type"], got["fromType"], got["task"], got["isDeleted"]) == ("Comment", "None", {"id": 1001}, False)


def test_comment_list_order_fields_and_paging(pf: Planfix) -> None:
    for text in ("one", "two", "three"):
        pf.post("/task/1005/comments/", {"description": text})
    rows = pf.post("/task/1005/comments/list", {"fields": "id,description", "typeList": "Comments",
                                                "resultOrder": [{"field": "id", "direction": "Desc"}]}).json()
    assert [c["description"] for c in rows["comments"]] == ["three", "two", "one"]
    assert set(rows["comments"][0]) == {"id", "description"}
    page = pf.post("/task/1005/comments/list", {"fields": "description", "offset": 1, "pageSize": 1}).json()
    assert page["comments"] == [{"id": page["comments"][0]["id"], "description": "two"}]
    by_time = pf.post("/task/1001/comments/list", {"fields": "description", "resultOrder": [
        {"filed": "dateTime", "direction": "Asc"}]}).json()["comments"]  # the schema's own misspelling works
    assert by_time[0]["description"].startswith("Здравствуйте")


def test_update_delete_and_deleted_list(pf: Planfix) -> None:
    comment_id = pf.post("/task/1005/comments/", {"description": "draft"}).json()["id"]
    assert pf.post(f"/task/1005/comments/{comment_id}", {"description": "final", "isPinned": True}).json() == \
        {"result": "success"}
    assert pf.get(f"/comment/{comment_id}", fields="description,isPinned").json()["comment"] == \
        {"id": comment_id, "description": "final", "isPinned": True}
    assert pf.http.delete(f"{pf.rest}/comment/{comment_id}").json() == {"result": "success"}
    assert pf.post("/task/1005/comments/list", {"fields": "id"}).json()["comments"] == []
    deleted = pf.post("/task/1005/comments/list", {"fields": "id,isDeleted", "typeList": "Deleted"}).json()
    assert deleted["comments"] == [{"id": comment_id, "isDeleted": True}]
    missing = pf.post("/task/1005/comments/4", {"description": "x"})
    assert (missing.status_code, missing.json()) == (400, {"result": "fail", "code": 5000,
                                                           "error": "Comment not found by id 4"})


def test_comment_errors() -> None:
    seed = demo_seed()
    seed["processes"][1]["commentsAllowed"] = False
    emulator, stop = start(seed)
    try:
        closed = emulator.post("/task/1002/comments/", {"description": "x"})
        assert (closed.status_code, closed.json()) == (400, {"result": "fail", "code": 6,
                                                             "error": "New comments not allowed in this process"})
        bad_owner = emulator.post("/task/1001/comments/", {"description": "x", "owner": {"id": "contact:999"}})
        assert (bad_owner.status_code, bad_owner.json()["code"]) == (400, 41)
        bad_file = emulator.post("/task/1001/comments/", {"files": [{"id": 123}]})
        assert (bad_file.status_code, bad_file.json()["code"]) == (400, 7000)
    finally:
        stop()


def test_time_entry_as_data_tag(pf: Planfix) -> None:
    tag = pf.get("/datatag/4").json()["dataTag"]
    assert tag["name"] == "Учет времени" and [f["id"] for f in tag["fields"]] == [401, 402, 403, 404, 405, 406]
    assert tag["fields"][1] == {"id": 402, "name": "Время", "type": 6, "objectType": 4}
    assert pf.post("/datatag/list", {"fields": "id,name"}).json()["dataTags"] == [{"id": 4, "name": "Учет времени"}]
    answer = pf.post("/task/1003/datatags/", {"dataTag": {"id": 4}, "items": [{"customFieldData": [
        {"field": {"id": 401}, "value": {"date": "30-04-2024"}},
        {"field": {"id": 402}, "value": {"from": {"time": "10:00"}, "to": {"time": "11:30"}}},
        {"field": {"id": 403}, "value": 90}, {"field": {"id": 404}, "value": {"id": "user:4"}}]}]})
    assert answer.status_code == 201
    body = answer.json()
    assert body["result"] == "success" and len(body["keys"]) == 1 and isinstance(body["commentId"], int)
    key = body["keys"][0]
    assert pf.task(1003, "dataTags")["dataTags"] == [{"dataTag": {"id": 4, "name": "Учет времени"}, "key": key}]
    entries = pf.post("/datatag/4/entry/list", {"fields": "key,task,403", "taskId": 1003}).json()["dataTagEntries"]
    assert entries == [{"key": key, "task": {"id": 1003, "name": "Ромашка: дизайн главной страницы"},
                        "customFieldData": [{"field": {"id": 403, "name": "Минуты", "type": 1, "objectType": 4},
                                             "value": 90}]}]
    may = {"dateType": "otherRange", "dateFrom": "29-04-2024", "dateTo": "30-04-2024"}
    assert len(pf.post("/datatag/4/entry/list", {"filters": [{"type": 3101, "field": 401, "operator": "equal",
                                                              "value": may}]}).json()["dataTagEntries"]) == 1
    assert pf.post("/datatag/4/entry/list", {"filters": [{"type": 5, "operator": "equal",
                                                          "value": 2}]}).json()["dataTagEntries"] == []
    entry = pf.get(f"/datatag/entry/{key}").json()["entry"]
    assert entry["commentId"] == body["commentId"] and len(entry["customFieldData"]) == 6
    assert pf.post(f"/datatag/entry/{key}", {"customFieldData": [{"field": {"id": 403}, "value": 95}]}).json() == \
        {"result": "success"}
    assert pf.http.delete(f"{pf.rest}/datatag/entry/{key}").json() == {"result": "success"}
    gone = pf.get(f"/datatag/entry/{key}")
    assert (gone.status_code, gone.json()) == (400, {"result": "fail", "code": 6000,
                                                     "error": f"Entry not found by key - {key}"})


def test_data_tag_errors(pf: Planfix) -> None:
    missing = pf.get("/datatag/77")
    assert (missing.status_code, missing.json()) == (404, {"result": "fail", "code": 6000,
                                                           "error": "Data tag not found by id 77"})
    wrong_field = pf.post("/task/1003/datatags/", {"dataTag": {"id": 4}, "items": [
        {"customFieldData": [{"field": {"id": 101}, "value": "task field"}]}]})
    assert (wrong_field.status_code, wrong_field.json()) == (400, {"result": "fail", "code": 6001,
                                                                   "error": "Error add entry"})


def test_file_upload_get_download_attach(pf: Planfix) -> None:
    file_id = upload(pf, "brief.txt", "Бриф клиента".encode())
    meta = pf.get(f"/file/{file_id}").json()
    assert meta == {"result": "success", "file": {"id": file_id, "size": len("Бриф клиента".encode()),
                                                  "name": "brief.txt"}}
    redirect = pf.http.get(f"{pf.rest}/file/{file_id}/download", allow_redirects=False)
    assert redirect.status_code == 302
    assert requests.get(redirect.headers["Location"]).content == "Бриф клиента".encode()
    assert pf.post(f"/file/{file_id}/attach/task", id=1005).json() == {"result": "success"}
    assert pf.get("/task/1005/files").json()["files"] == [{"id": file_id, "size": 23, "name": "brief.txt"}]
    other = upload(pf, "reply.png", b"png")
    pf.post("/task/1005/comments/", {"description": "see file", "files": [{"id": other}]})
    assert [f["name"] for f in pf.get("/task/1005/files").json()["files"]] == ["brief.txt", "reply.png"]
    assert [f["name"] for f in pf.get("/task/1005/files", onlyFromDescription="true").json()["files"]] == ["brief.txt"]
    assert pf.create_task(name="with files", files=[{"id": other}])
    missing = pf.get("/file/99")
    assert (missing.status_code, missing.json()) == (400, {"result": "fail", "code": 7000,
                                                           "error": "File not found by id 99"})
    no_part = pf.http.post(pf.rest + "/file/", data={"x": "y"})
    assert (no_part.status_code, no_part.json()["code"]) == (400, 7001)
