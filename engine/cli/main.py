"""The ``ossdx`` command line. Thin: parse arguments, call the engine, print.

Exit codes: 0 success; 1 the knowledge base (or a check) has errors; 2 an input file is not
acceptable (one line per problem, naming file and line); 3 an internal error (reported in
one line; set OSSDX_DEBUG=1 for the traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tomllib
import traceback
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from ossdx import __version__
from ossdx.cli import db, deidentify
from ossdx.core.errors import InputError, KnowledgeBaseError, Severity

EXIT_OK, EXIT_CHECK, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3


def _kb(args: argparse.Namespace) -> Any:
    from ossdx.kb import load_knowledge_base

    return load_knowledge_base(args.kb)


def _dump(data: Any, out: TextIO) -> None:
    out.write(json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False))
    out.write("\n")


# ---------------------------------------------------------------------- diagnose
def cmd_diagnose(args: argparse.Namespace, out: TextIO) -> int:
    from ossdx.advice.export import diagnosis_json
    from ossdx.advice.questions import QuestionAdvisor
    from ossdx.advice.report import format_differential
    from ossdx.core.loader import read_document
    from ossdx.reasoning.cases import check_case_document
    from ossdx.reasoning.diagnosis import Reasoner

    document = read_document(args.case)  # a file that cannot be read fails before the KB loads
    kb = _kb(args)
    case = check_case_document(document, kb, Path(args.case).parent)
    reasoner = Reasoner(kb)
    differential = reasoner.diagnose(case)
    advice = QuestionAdvisor(reasoner).advise(case)
    if args.json:
        _dump(diagnosis_json(kb, differential, advice), out)
    else:
        out.write(format_differential(kb, differential, advice) + "\n")
    return EXIT_OK


# ---------------------------------------------------------------------- validate
def cmd_validate(args: argparse.Namespace, out: TextIO) -> int:
    from ossdx.authoring.lint import CHECKS_NEEDING_LOADED_KB, validate

    folder = args.kb_dir or args.kb  # 'ossdx validate DIR' or 'ossdx --kb DIR validate'
    result = validate(Path(folder) if folder else None)
    problems = result.problems
    errors = [p for p in problems if p.severity is Severity.ERROR]
    warnings = [p for p in problems if p.severity is Severity.WARNING]
    skipped = [] if result.loaded else list(CHECKS_NEEDING_LOADED_KB)
    if args.json:
        _dump({"errors": len(errors), "warnings": len(warnings), "checks_not_run": skipped,
               "problems": [{"file": p.location.file, "line": p.location.line,
                             "severity": p.severity.value, "code": p.code,
                             "message": p.message} for p in problems]}, out)
    else:
        for problem in problems:
            out.write(f"{problem}\n")
        out.write(f"{len(errors)} error(s), {len(warnings)} warning(s)\n")
        if skipped:
            out.write("The knowledge base did not load, so these checks did not run: "
                      f"{', '.join(skipped)}. Mend the errors above and run "
                      "'ossdx validate' again.\n")
    return EXIT_CHECK if errors else EXIT_OK


# ---------------------------------------------------------------------- evaluate
def cmd_evaluate(args: argparse.Namespace, out: TextIO) -> int:
    from ossdx.authoring.evaluate import evaluate, format_report, load_cases

    kb = _kb(args)
    folder = Path(args.cases_dir)
    if not folder.exists():
        raise InputError([_missing(folder)])
    cases, problems = load_cases(folder, kb, args.split)
    for problem in problems:
        sys.stderr.write(f"{problem}\n")
    report = evaluate(kb, cases, with_robustness=args.robustness)
    report["split"] = args.split
    report["skipped_invalid_files"] = len({p.location.file for p in problems})
    if args.json:
        _dump(report, out)
    else:
        out.write(format_report(report) + "\n")
    return EXIT_INPUT if problems else EXIT_OK


def _missing(path: Path) -> Any:
    from ossdx.core.errors import Location, Problem

    return Problem(Location(str(path)), "no such file or folder", code="missing")  # no line


# ---------------------------------------------------------------------- response, graph, coverage
def cmd_response(args: argparse.Namespace, out: TextIO) -> int:
    from ossdx.cli.response import run

    return run(args, out)


def cmd_graph(args: argparse.Namespace, out: TextIO) -> int:
    from ossdx.cli.graph import run

    return run(args, out)


def cmd_typical(args: argparse.Namespace, out: TextIO) -> int:
    from ossdx.cli.typical import run

    return run(args, out)


def cmd_coverage(args: argparse.Namespace, out: TextIO) -> int:
    from ossdx.cli.coverage import run

    return run(args, out)


# ---------------------------------------------------------------------- app
def streamlit_options() -> list[str]:
    """The app's Streamlit settings (``ossdx.ui``'s streamlit_config.toml) as options."""
    config = resources.files("ossdx.ui").joinpath("streamlit_config.toml")
    settings = tomllib.loads(config.read_text(encoding="utf-8"))
    options = []
    for section, values in settings.items():
        for key, value in values.items():
            text = str(value).lower() if isinstance(value, bool) else str(value)
            options += [f"--{section}.{key}", text]
    return options


def cmd_deidentify(args: argparse.Namespace, out: TextIO) -> int:
    from ossdx.cli.deidentify import run

    return run(args, out)


def cmd_db(args: argparse.Namespace, out: TextIO) -> int:
    from ossdx.cli.db import run

    return run(args, out)


def cmd_app(args: argparse.Namespace, out: TextIO) -> int:
    from ossdx.cli.app import ALLOW_FLAG, secrets_files, serving, sign_in_configured

    passed = [a for a in args.streamlit_args if a != ALLOW_FLAG]  # the flag may come late
    allow = args.allow_network_without_sign_in or len(passed) != len(args.streamlit_args)
    plan = serving(passed, allow_network=allow,
                   signed_in=sign_in_configured(secrets_files(passed)))
    if plan.message:
        sys.stderr.write(plan.message + "\n")
    app = Path(str(resources.files("ossdx.ui").joinpath("serve.py")))  # st.App: ui/serve.py
    command = [sys.executable, "-m", "streamlit", "run", str(app), *streamlit_options(),
               *plan.options, *passed]
    if args.kb:
        os.environ["OSSDX_KB"] = str(Path(args.kb).resolve())
    out.flush()
    os.execv(sys.executable, command)
    return EXIT_OK  # pragma: no cover


# ---------------------------------------------------------------------- parser
COMMANDS: dict[str, Callable[[argparse.Namespace, TextIO], int]] = {
    "diagnose": cmd_diagnose,
    "validate": cmd_validate,
    "evaluate": cmd_evaluate,
    "response": cmd_response,
    "graph": cmd_graph,
    "coverage": cmd_coverage,
    "typical": cmd_typical,
    "deidentify": cmd_deidentify,
    "db": cmd_db,
    "app": cmd_app,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ossdx",
        description="Differential diagnosis of bone lesions in breast cancer: metastasis "
                    "versus its mimics. Educational decision support; not a diagnosis.")
    parser.add_argument("--version", action="version", version=f"ossdx {__version__}")
    parser.add_argument("--kb", metavar="DIR", default=None,
                        help="knowledge-base folder (default: $OSSDX_KB, else the one shipped with "
                             "the package: the checkout's knowledge_base/ in an editable "
                             "install)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("diagnose", help="rank the differential of one case file")
    p.add_argument("case", help="case file (YAML)")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("validate", help="check a knowledge base; every problem as file:line")
    p.add_argument("kb_dir", nargs="?", default=None, help="knowledge-base folder")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("evaluate", help="accuracy, Brier score and confusion over case files")
    p.add_argument("cases_dir", help="folder of case files with 'truth:' (searched recursively)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--split", choices=["all", "tuning", "test"], default="all",
                   help="only the tuning (2/3) or test (1/3) part, by the fixed hash rule")
    p.add_argument("--robustness", action="store_true",
                   help="also perturb likelihood ratios and drop findings (20 draws each)")

    p = sub.add_parser("response", help="treatment response of bone metastases (MDA, WHO, UICC)")
    p.add_argument("file", help="response file (YAML): baseline and follow-up lesions")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("graph", help="export the knowledge graph")
    p.add_argument("--diagnosis", metavar="ID", help="only the subgraph around one diagnosis")
    p.add_argument("--finding", metavar="ID", help="only the subgraph around one finding")
    p.add_argument("--format", choices=["dot", "graphml", "json"], default="dot")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")

    p = sub.add_parser("typical", help="whether each diagnosis leads on its own typical "
                                       "picture (from its profile, no case)")
    p.add_argument("--signs", type=int, default=5, metavar="K",
                   help="findings in each picture (default 5)")
    p.add_argument("--diagnosis", metavar="ID", help="only this diagnosis")
    p.add_argument("--patient", metavar="FIELD=VALUE", action="append",
                   help="patient context, as in a case file (repeat: --patient primary=none "
                        "--patient age=70); default none")
    p.add_argument("--modality", metavar="ID", action="append",
                   help="only findings this study shows (repeat for several: --modality XR "
                        "--modality bone_scan); default every study")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("coverage", help="which rules the case files exercise")
    p.add_argument("cases_dir", nargs="?", default=None,
                   help="folder of case files (default: the KB's cases/)")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    deidentify.add_parser(sub)
    db.add_parser(sub)

    p = sub.add_parser("app", help="start the Streamlit app (on 127.0.0.1 only unless "
                                   "sign-in is configured)")
    p.add_argument("--allow-network-without-sign-in", action="store_true",
                   help="allow --server.address other than 127.0.0.1 without sign-in "
                        "(anyone on the network can then read any trainee's progress)")
    p.add_argument("streamlit_args", nargs=argparse.REMAINDER,
                   help="further arguments for 'streamlit run'")
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "app":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == "app":  # everything after 'app' goes to 'streamlit run'
        args.streamlit_args = [*extra, *args.streamlit_args]
    try:
        return COMMANDS[args.command](args, out)
    except KnowledgeBaseError as exc:
        for problem in exc.problems:
            sys.stderr.write(f"{problem}\n")
        sys.stderr.write("the knowledge base has errors; run 'ossdx validate'\n")
        return EXIT_CHECK
    except InputError as exc:
        for problem in exc.problems:
            sys.stderr.write(f"{problem}\n")
        return EXIT_INPUT
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the boundary: no traceback reaches a user
        if os.environ.get("OSSDX_DEBUG"):
            traceback.print_exc()
        sys.stderr.write(f"ossdx: internal error: {type(exc).__name__}: {exc} "
                         "(set OSSDX_DEBUG=1 for details; please report it)\n")
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
