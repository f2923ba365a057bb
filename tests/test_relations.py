import numpy as np
import pytest

import graphfit as gf


@pytest.fixture
def m_c():
    return gf.UniformPrior(-10.0, 10.0, name="m"), gf.UniformPrior(-10.0, 10.0, name="c")


def test_arithmetic_builds_relations(m_c):
    m, c = m_c
    values = {m: 3.0, c: 2.0}
    cases = {
        m + c: 5.0,
        m - c: 1.0,
        m * c: 6.0,
        m / c: 1.5,
        m**c: 9.0,
        -m: -3.0,
        2.0 + m: 5.0,
        2.0 - m: -1.0,
        2.0 * m: 6.0,
        6.0 / m: 2.0,
        2.0**m: 8.0,
        abs(-m): 3.0,
        m * 2 + c: 8.0,
    }
    for relation, expected in cases.items():
        assert isinstance(relation, gf.Relation)
        assert relation.evaluate(values) == pytest.approx(expected)


def test_relation_priors_text_and_constants(m_c):
    m, c = m_c
    relation = (m * 3.0) + c
    assert relation.priors() == [m, c]
    assert relation.constants() == [3.0]
    assert relation.expression_text({m: "m", c: "c"}) == "(m * 3.0) + c"
    assert repr(relation) == "Relation((m * 3.0) + c)"


def test_math_functions(m_c):
    m, _ = m_c
    for name in ("exp", "log", "sqrt", "log10", "sin", "cos", "tanh", "abs", "log1p", "expm1"):
        relation = getattr(gf.math, name)(m)
        assert isinstance(relation, gf.Relation)
        assert relation.evaluate({m: 0.5}) == pytest.approx(getattr(np, name)(0.5))
        assert getattr(gf.math, name)(0.5) == pytest.approx(getattr(np, name)(0.5))
    assert gf.math.exp(m).expression_text({m: "m"}) == "exp(m)"


def test_relation_evaluates_with_pytensor(m_c):
    import pytensor.tensor as pt

    m, c = m_c
    xm, xc = pt.dscalar("m"), pt.dscalar("c")
    from graphfit.backend.tensor_namespace import pytensor_namespace

    out = gf.math.exp(m * 2.0 + c).evaluate({m: xm, c: xc}, pytensor_namespace())
    assert float(out.eval({xm: 0.5, xc: -1.0})) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda m: m + "x",
            r"relation '\+': got 'x' of type str; a relation may only mix priors, relations and finite real numbers",
        ),
        (lambda m: m * [1.0], r"relation '\*': got \[1.0\] of type list"),
        (lambda m: m * float("nan"), r"relation '\*': the number nan is not finite"),
        (lambda m: m / np.inf, r"relation '/': the number inf is not finite"),
        (lambda m: gf.math.exp("a"), r"gf.math.exp: got 'a' of type str"),
        (lambda m: m + gf.Model(gf.ex.Gaussian), r"relation '\+': got Model\(Gaussian"),
    ],
)
def test_bad_relation_operands(m_c, build, message):
    with pytest.raises(gf.RelationError, match=message) as info:
        build(m_c[0])
    assert isinstance(info.value, TypeError)
