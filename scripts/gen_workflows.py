"""Write workflows/task_01.bpmn .. task_08.bpmn from the process pattern (engine.pattern).

Only the bundled policy's names live here; the pattern itself is engine/pattern.py, which an
import renders for every task of a new policy. Run: ``python scripts/gen_workflows.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.pattern import ProcessNames, render  # noqa: E402

OUT_DIR = Path(__file__).resolve().parent.parent / "workflows"

TASKS: tuple[ProcessNames, ...] = (
    ProcessNames("task_01", 1, "制定“地方版”和“加强版”政策措施",
                 "报送‘地方版’政策措施制定情况", "配合指导政策措施制定"),
    ProcessNames("task_02", 2, "培育入库并认定“专精特新”中小企业",
                 "报送年度培育入库和认定情况", "配合开展市级培育工作"),
    ProcessNames("task_03", 3, "培育认定省级小微企业创业基地",
                 "报送年度创业基地认定情况", "配合创业基地培育认定"),
    ProcessNames("task_04", 4, "培育省中小企业公共服务示范平台",
                 "报送示范平台培育情况", "配合完善平台服务功能"),
    ProcessNames("task_05", 5, "评选技术能手、技能大奖获得者和“江淮杰出工匠”",
                 "报送技能人才评选情况", "配合组织评选推荐"),
    ProcessNames("task_06", 6, "设立并运营省中小企业（专精特新）发展基金",
                 "报送发展基金设立运营情况", "配合基金设立与运营"),
    ProcessNames("task_07", 7, "推动“专精特新”中小企业在“安徽专精特新板”挂牌",
                 "报送年度挂牌推进情况", "配合企业挂牌工作"),
    ProcessNames("task_08", 8, "建立完善“专精特新”中小企业运行监测体系",
                 "报送运行监测与督促检查情况", "配合运行监测数据报送"),
)


def main(argv: list[str]) -> int:
    """Write the eight files (or into the directory given as the only argument)."""
    out_dir = Path(argv[0]) if argv else OUT_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    for task in TASKS:
        path = out_dir / f"{task.process_id}.bpmn"
        path.write_text(render(task), encoding="utf-8")
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
