"""fields.fit: every value cut or formatted to its WeChat type's rule, never empty, never sent as it came."""
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from app.services.messaging import fields


def test_thing_is_cut_to_twenty_characters_with_an_ellipsis():
    assert fields.fit("thing1", "甲" * 20) == "甲" * 20
    cut = fields.fit("thing1", "甲" * 21)
    assert cut == "甲" * 19 + "…" and len(cut) == 20
    assert fields.fit("thing12", "  宁波某电子有限公司\n北仑厂区\t二号门  ") == "宁波某电子有限公司 北仑厂区 二号门"
    assert fields.fit("thing1", None) == "无" and fields.fit("thing1", "   ") == "无"
    assert fields.fit("thing1", 42) == "42"


def test_phrase_keeps_five_han_characters_only():
    assert fields.fit("phrase3", "已通过") == "已通过"
    assert fields.fit("phrase3", "需隔离（38.5℃）") == "需隔离"
    assert fields.fit("phrase3", "观察期已经满了") == "观察期已经"
    assert fields.fit("phrase3", "OK 123") == "无"


def test_name_is_han_or_letters():
    assert fields.fit("name1", "张 三丰") == "张三丰"
    assert fields.fit("name1", "欧阳" * 6) == "欧阳" * 5
    assert fields.fit("name1", "Zhang San-feng 2") == "ZhangSan-feng"
    assert len(fields.fit("name1", "A" * 30)) == 20


def test_strings_numbers_letters_and_symbols():
    assert fields.fit("character_string1", "SEAT-0012 / 宁A") == "SEAT-0012/A"
    assert len(fields.fit("character_string1", "x" * 40)) == 32
    assert fields.fit("character_string1", "中文") == "-"
    assert fields.fit("number2", "共 12.5 人") == "12.5" and fields.fit("number2", "..") == "0"
    assert fields.fit("letter3", "ab1c") == "abc" and fields.fit("letter3", "123") == "X"
    assert fields.fit("symbol4", "a-+#*()") == "-+#*(" and fields.fit("symbol4", "abc") == "-"


def test_phone_number_keeps_digits_plus_and_dash_up_to_seventeen():
    assert fields.fit("phone_number4", "139 1234 5678") == "13912345678"
    assert fields.fit("phone_number4", "0951-6012345 转 8") == "0951-60123458"
    assert fields.fit("phone_number4", "+86 139-1234-5678-9999") == "+86139-1234-5678-"
    assert len(fields.fit("phone_number4", "1" * 30)) == 17
    assert fields.fit("phone_number4", "") == "-" and fields.fit("phone_number4", None) == "-"


def test_car_number_allows_han_only_at_both_ends():
    assert fields.fit("car_number1", "宁A12345") == "宁A12345"
    assert fields.fit("car_number1", "宁a·12345挂") == "宁A12345挂"
    assert fields.fit("car_number1", "宁A 1学234") == "宁A1234"
    assert fields.fit("car_number1", "川A12345678") == "川A123456"
    assert fields.fit("car_number1", "待定") == "待定" and fields.fit("car_number1", "") == "-"


def test_times_and_dates_are_beijing_time():
    stored = datetime(2020, 2, 24, 23, 30)  # naive: UTC as stored → 2020-02-25 07:30 in Beijing
    assert fields.fit("time4", stored) == "2020年2月25日 07:30"
    assert fields.fit("date2", stored) == "2020年2月25日 07:30"
    aware = datetime(2020, 2, 25, 7, 30, tzinfo=timezone(timedelta(hours=8)))
    assert fields.fit("time1", aware) == fields.fit("time1", aware.astimezone(UTC)) == "2020年2月25日 07:30"
    assert fields.fit("date3", date(2020, 3, 9)) == "2020年3月9日"
    assert fields.fit("date3", None) == "-" and fields.fit("time1", "x" * 30) == "x" * 24


def test_fit_all_wraps_every_value_and_an_unknown_key_is_a_mistake():
    assert fields.fit_all({"thing1": "到达", "phrase2": "放行"}) == {"thing1": {"value": "到达"},
                                                                  "phrase2": {"value": "放行"}}
    for key in ("thing", "keyword1", "Thing1", "weird_type1"):
        with pytest.raises(ValueError):
            fields.fit(key, "x")
    assert fields.type_of("character_string12") == "character_string"


def test_a_han_name_keeps_han_only_and_a_number_one_decimal_point():
    # WeChat's name is pure Han or pure letters: a masked name's * or a middle dot would refuse the message.
    assert fields.fit("name1", "张*丰") == "张丰"
    assert fields.fit("name1", "买买提·艾力") == "买买提艾力"
    assert fields.fit("number2", "1.2.3") == "1.23" and fields.fit("number2", "v2.0.1 版") == "2.01"
    assert fields.fit("number2", ".5") == "0.5" and fields.fit("number2", "12.") == "12"


def test_a_phone_is_masked_for_the_inbox():
    assert fields.masked_phone("13912345678") == "139****5678"
    assert fields.masked_phone("0951-6012345") == "095*****2345"
    assert fields.masked_phone("-") == "-"
