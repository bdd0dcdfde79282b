from mdfs.textnorm import char_tokens, dedup_key, normalize


def test_normalize_fullwidth_ascii_but_keeps_chinese_punctuation():
    assert normalize("ＡＢＣ１２３，你好！") == "ABC123，你好！"
    assert normalize("「引号」、《书名》：；？（括号）") == "「引号」、《书名》：；？（括号）"


def test_normalize_whitespace_and_invisible_characters():
    text = "第一行\u200b内容\x07  多个   空格\r\n\n\n\n\n第二段\u3000结束  "
    assert normalize(text) == "第一行内容 多个 空格\n\n第二段 结束"


def test_dedup_key_ignores_spacing_and_punctuation_only():
    assert dedup_key("你好，世界。") == dedup_key("你好 世界") == dedup_key("你好,世界!")
    assert dedup_key("你好世界") != dedup_key("你好地球")


def test_char_tokens_are_bounded():
    assert char_tokens("我爱Python编程。", 100) == "我 爱 Python 编 程 。"
    assert char_tokens("一二三四五", 3) == "一 二 三"
