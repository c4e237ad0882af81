from npldesk.core.errors import Problem, ProblemList, Severity


def test_problem_describes_where_what_and_rule():
    problem = Problem("type.date", "not a date", "2019-12.csv", 7, "放款日期", "2019/13/01")
    assert problem.describe() == (
        "2019-12.csv, row 7, column 放款日期: not a date (value '2019/13/01') [type.date]"
    )
    assert problem.as_dict()["severity"] == "error"
    assert (
        Problem("month.missing", "gap", severity=Severity.WARNING).describe()
        == "gap [month.missing]"
    )


def test_problem_list_keeps_the_first_and_counts_all():
    problems = ProblemList(limit=2)
    for row in range(5):
        problems.add(Problem("required", "missing", "f.csv", row))
    problems.extend_count(10)
    assert [p.row for p in problems.problems] == [0, 1]
    assert problems.total == 15
    assert problems
