"""The shipped reading paths and quizzes follow the seed and point into the staff handbook; a
broken training file stops the app with the file and the problem named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from forms_app import create_app
from forms_app.accounts import roles
from forms_app.core.community import load_community
from forms_app.training.definitions import (
    MULTIPLE,
    SINGLE,
    TRAINING_DIR,
    TRUE_FALSE,
    TrainingDataError,
    read_training,
)
from forms_app.training.handbook_sections import cached_handbook, default_config_file

pytestmark = pytest.mark.one_app_per_module


def pages_of(path) -> list[str]:
    return list(dict.fromkeys(section.page for section in path))


def test_each_role_reads_the_pages_of_its_work(training):
    service_pages = [
        "service-code",
        "customer-service",
        "satisfaction-plan",
        "renovation-control",
        "move-in-control",
    ]
    assert pages_of(training.path_for(roles.SERVICE)) == service_pages
    assert pages_of(training.path_for(roles.SERVICE_LEAD)) == service_pages
    assert pages_of(training.path_for(roles.CLEANER)) == ["service-code", "cleaning-standards"]
    guards = [s.key for s in training.path_for(roles.SECURITY)]
    assert "renovation-control#装修人员管理" in guards and "move-in-control#家私搬运" in guards
    assert "cleaning-standards#10-室内" not in guards
    # The 经理 reads every page of the staff handbook but its front page, in navigation order.
    manager = pages_of(training.path_for(roles.MANAGER))
    assert manager[0] == "service-code"
    assert set(manager) == {
        "service-code",
        "renovation-control",
        "move-in-control",
        "cleaning-standards",
        "customer-service",
        "satisfaction-plan",
    }
    # A page stands for its second-level sections: the seven SERVICE letters.
    assert [s.title for s in training.path_for(roles.CLEANER)][:7] == [
        "S：SMILE（微笑）",
        "E：EXCELLENT（卓越）",
        "R：READY（准备好）",
        "V：VIEWING（看待）",
        "I：INVITING（邀请）",
        "C：CREATING（创造）",
        "E：EYE（关注）",
    ]


def test_every_role_has_a_path_and_a_quiz(training):
    for role in roles.ROLES:
        assert training.path_for(role), role
        assert training.quizzes_for(role), role
    assert [q.id for q in training.quizzes_for(roles.CLEANER)] == ["cleaning", "service-code"]


def test_all_three_kinds_of_question_are_used(training):
    kinds = {q.kind for quiz in training.quizzes.values() for q in quiz.questions}
    assert kinds == {SINGLE, MULTIPLE, TRUE_FALSE}


def answer(training, quiz_id: str, question_id: str) -> str:
    return training.quizzes[quiz_id].question(question_id).answer_text


def test_the_answers_are_the_seeds(training):
    """The facts the issue names, as the seed states them."""
    assert answer(training, "renovation", "passes") == "双证管理"
    clear_out = training.quizzes["renovation"].question("clear-out")
    assert clear_out.text.startswith("19:00 后") and clear_out.answer_text == "秩序维护部"
    assert answer(training, "renovation", "office-patrol") == "每日一次"
    assert answer(training, "renovation", "guard-patrol") == "每两天一次"
    route = training.quizzes["renovation"].question("material-route-1")
    assert route.text.startswith("1号楼") and route.answer_text == "3号车场出入口（12号楼旁边）"
    route = training.quizzes["renovation"].question("material-route-2")
    assert route.text.startswith("2号楼") and route.answer_text == "1号车场出入口（6号楼旁边）"
    assert answer(training, "renovation", "worker-gate") == "小区次出入口（6号楼旁边）"
    assert answer(training, "cleaning", "ashtray-sand") == "2/3"
    assert answer(training, "cleaning", "ashtray-ends") == "3个"
    assert answer(training, "cleaning", "stairwell-ends") == "3个"
    assert (
        training.quizzes["customer-service"].question("target").text
        == "业主满意率的目标是90%以上。"
    )
    assert answer(training, "customer-service", "target") == "对"
    assert answer(training, "customer-service", "training") == "每周一次"
    assert answer(training, "service-code", "inviting") == "I-INVITING（邀请）"
    assert answer(training, "service-code", "smile") == "主动、真诚、自然、友善"


def test_every_question_names_a_section_that_holds_its_quote(training):
    handbook = cached_handbook(str(default_config_file()), None)
    for quiz in training.quizzes.values():
        assert 1 <= quiz.pass_mark <= 100
        for question in quiz.questions:
            section = handbook.sections[question.section.key]
            assert "".join(question.quote.split()) in "".join(section.text.split())
            assert question.section.url.startswith("/staff/") and "#" in question.section.url


@pytest.fixture
def broken(tmp_path):
    """A copy of the shipped training data to break; ``load()`` reads it like the app does."""
    directory = tmp_path / "training"
    shutil.copytree(TRAINING_DIR, directory)
    handbook = cached_handbook(str(default_config_file()), None)

    class Broken:
        path = directory

        @staticmethod
        def edit(name: str, old: str, new: str) -> None:
            file = directory / name
            text = file.read_text(encoding="utf-8")
            assert old in text, (name, old)
            file.write_text(text.replace(old, new, 1), encoding="utf-8")

        @staticmethod
        def load():
            return read_training(directory, handbook, load_community())

    return Broken


@pytest.mark.parametrize(
    "name, old, new, message",
    [
        (
            "quizzes/service-code.yml",
            "section: service-code#rready准备好",
            "section: service-code#没有这一节",
            "在员工手册中不存在",
        ),
        (
            "quizzes/cleaning.yml",
            'quote: "装量不超过烟盖的2/3"',
            'quote: "装量不超过烟盖的1/2"',
            "找不到",
        ),
        ("quizzes/cleaning.yml", "answer: 2/3", "answer: 4/5", "不在选项中"),
        ("quizzes/cleaning.yml", "answer: 2/3", "answer: [1/2, 2/3]", "只能有一个答案"),
        (
            "quizzes/move-in.yml",
            "answer: [到客户服务中心预约, 电话预约]",
            "answer: [电话预约]",
            "至少要有两个答案",
        ),
        ("quizzes/service-code.yml", "answer: true", "answer: 对", "true 或 false"),
        ("quizzes/service-code.yml", "id: ready", "id: smile", "id 重复"),
        ("quizzes/service-code.yml", "type: single", "type: essay", "type 应为"),
        ("quizzes/cleaning.yml", "roles: [cleaner,", "roles: [janitor,", "未知角色"),
        (
            "quizzes/renovation.yml",
            "{{ clear_out }} 后，谁",
            "{{ clear_out_hour }} 后，谁",
            "无法读取",
        ),
        (
            "paths.yml",
            "- renovation-control#装修人员管理",
            "- renovation-control#装修人员",
            "不存在",
        ),
        ("paths.yml", "  cleaner:\n", "  cleaners:\n", "未知角色"),
        ("paths.yml", "    - cleaning-standards\n", "    - cleaning\n", "页面 'cleaning'"),
    ],
)
def test_a_broken_file_is_refused_naming_it(broken, name, old, new, message):
    broken.load()  # the copy itself is fine
    broken.edit(name, old, new)
    with pytest.raises(TrainingDataError) as error:
        broken.load()
    assert str(broken.path / name) in str(error.value)
    assert message in str(error.value)


def test_a_role_without_a_path_is_refused(broken):
    raw = yaml.safe_load((broken.path / "paths.yml").read_text(encoding="utf-8"))
    del raw["paths"]["cleaner"]
    (broken.path / "paths.yml").write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    with pytest.raises(TrainingDataError, match="保洁"):
        broken.load()


def test_the_app_does_not_start_on_a_broken_quiz(broken, tmp_path, monkeypatch):
    broken.edit(
        "quizzes/service-code.yml", "section: service-code#eeye关注", "section: service-code#eye"
    )
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    with pytest.raises(TrainingDataError, match="service-code#eye"):
        create_app({"TESTING": True, "SITE_DIR": None, "TRAINING_DIR": str(broken.path)})


def test_the_pass_mark_is_a_community_setting(tmp_path):
    text = Path(load_community().source).read_text(encoding="utf-8")
    assert "pass_mark: 80" in text
    for bad in ("0", "101", "八十", "true"):
        file = tmp_path / "community.yml"
        file.write_text(text.replace("pass_mark: 80", f"pass_mark: {bad}"), encoding="utf-8")
        with pytest.raises(TrainingDataError, match="pass_mark"):
            read_training(
                TRAINING_DIR,
                cached_handbook(str(default_config_file()), None),
                load_community(file),
            )
