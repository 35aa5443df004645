"""assistant.router: what-if, out of scope and knowledge routes, decided in code."""

from __future__ import annotations

import pytest

from assistant.router import Router


@pytest.fixture(scope="module")
def router() -> Router:
    return Router.load()


@pytest.mark.parametrize(
    ("question", "route"),
    [
        ("芝麻分从650涨到720,借呗额度会怎样?", "whatif"),
        ("我芝麻分680,按时还款12个月,借呗额度大概多少?", "whatif"),
        ("If I pay off half my Huabei, will my Jiebei limit go up?", "whatif"),
        ("借呗额度是怎么定的?", "knowledge"),
        ("在闲鱼买东西会开通借呗吗?", "knowledge"),
        ("帮我查一下我的借呗额度是多少", "knowledge"),  # a look-up, not an estimate
        ("Can you look up my Alipay account balance?", "knowledge"),
        ("今天北京天气怎么样", "out_of_scope"),
        ("京东白条额度怎么提升？", "out_of_scope"),
        ("Should I buy Tesla stock?", "out_of_scope"),
        ("花呗和信用卡哪个好", "knowledge"),  # names our product: stays in scope
    ],
)
def test_routes(router: Router, question: str, route: str) -> None:
    assert router.route(question) == route


@pytest.mark.parametrize(
    ("question", "in_domain"),
    [
        ("借呗利息", True),
        ("逾期了怎么办", True),
        ("How do I complain?", True),
        ("你好", False),
        ("世界上最高的山", False),
    ],
)
def test_in_domain(router: Router, question: str, in_domain: bool) -> None:
    assert router.in_domain(question) is in_domain
