"""DOCX (a table with merged cells, numbered paragraphs) and PDF (a text layer, a scan)."""

from __future__ import annotations

from datetime import date

from conftest import DATA, problems, read


def ids(refs):
    return [r.unit_id for r in refs]


def test_docx_table_with_merged_cells(city):
    result = read("table.docx", city)
    assert result.ok(), result.errors()
    assert result.source_kind == "docx"
    assert (result.policy.issuer, result.policy.issued_on, result.policy.reporting) == (
        "东江市人民政府办公室", date(2022, 3, 1), "每月23日前")
    one, two, three = result.tasks
    assert one.path == ["一、教育"] and three.path == ["二、医疗"]
    assert ids(two.lead) == ["fgw"] and two.deadline == "2022年8月31日前"  # merged down
    assert ids(two.supporting) == ["dongcheng", "xicheng"]
    assert three.more_units and three.place == "表格1第6行"


def test_docx_numbered_paragraphs(city):
    result = read("paragraphs.docx", city)
    assert result.ok(), result.errors()
    one, two = result.tasks
    assert one.label == "（一）" and one.path == ["一、办好民生实事"]
    assert ids(one.lead) == ["fgw"] and one.deadline == "2022年11月底前"
    assert ids(two.lead) == ["czj", "fgw"] and ids(two.supporting) == ["lishan", "hexi"]
    assert ("第8段", "时限取自任务内容：“2022年11月底前”") in problems(result)


def test_pdf_with_a_text_layer(city):
    result = read("table.pdf", city)
    assert result.ok(), result.errors()
    assert result.source_kind == "pdf"
    assert (result.policy.issuer, result.policy.issued_on) == ("东江市人民政府", date(2022, 2, 15))
    assert [(t.label, ids(t.lead), t.deadline) for t in result.tasks] == [
        ("1", ["fgw"], "2022年12月31日前"), ("2", ["zfb"], "2022年9月底前")]
    assert result.tasks[0].place == "第1页表格1第2行"


def test_pdf_without_a_text_layer(city):
    result = read("scan.pdf", city)
    assert problems(result) == [
        ("文件", "PDF 没有文字层（可能是扫描件），无法读取，"
                 "请上传可复制文字的 PDF 或 Word、Excel 文件")]
    assert result.tasks == []


def test_fixture_generator_is_there():
    assert (DATA / "make_fixtures.py").is_file()


def test_docx_automatic_numbering_is_rendered(city):
    result = read("auto_numbered.docx", city)
    assert result.ok(), result.errors()
    assert [(t.label, t.path, ids(t.lead)) for t in result.tasks] == [
        ("一、（一）", ["一、办好教育实事"], ["fgw"]), ("（二）", ["一、办好教育实事"], ["czj"]),
        ("二、（一）", ["二、办好医疗实事"], ["spj"])]
    assert result.tasks[0].text == "新建中小学校10所。"


def test_pdf_table_running_over_a_page_break():
    from engine.importing.model import Problems
    from engine.importing.read_pdf import joined
    from engine.importing.table import GridRow

    header = ["序号", "工作任务", "牵头单位", "配合单位", "完成时限"]
    page1 = [GridRow("第1页表格1第1行", header),
             GridRow("第1页表格1第2行", ["1", "建设科创", "市发改委", "", "2022年9"])]
    page2 = [GridRow("第2页表格1第1行", header),
             GridRow("第2页表格1第2行", ["", "走廊。", "", "", "月底前"]),
             GridRow("第2页表格1第3行", ["2", "改造小区。", "市财政局", "", "年底前"])]
    found = Problems()
    (rows,) = joined([page1, page2], found)
    assert [r.cells for r in rows] == [
        header, ["1", "建设科创走廊。", "市发改委", "", "2022年9月底前"],
        ["2", "改造小区。", "市财政局", "", "年底前"]]
    assert [p.place for p in found.items] == ["第2页表格1第2行"]
