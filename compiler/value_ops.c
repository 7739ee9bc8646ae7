// value_ops.c: Python's operators on .pg values: int arithmetic checked for 64-bit
// overflow, float floor division / modulo / power with CPython's algorithms, sequence
// concatenation and repetition, comparisons (int and float compared exactly, sequences
// lexicographically), membership, identity and subscripts. Errors are Python's messages.
#include "value.h"

#include <math.h>
#include <string.h>

#include "lex.h"
#include "methods.h"

// ---- integer and float arithmetic with Python's rules ----

static _Noreturn void overflow(evaluator *ev, pg_srcloc loc) {
    eval_error(ev, loc, PG_ERR_ARG, "integer overflow (results must fit in 64 bits)");
}

static int64_t int_add(evaluator *ev, int64_t a, int64_t b, pg_srcloc loc) {
    if ((b > 0 && a > INT64_MAX - b) || (b < 0 && a < INT64_MIN - b))
        overflow(ev, loc);
    return a + b;
}

static int64_t int_sub(evaluator *ev, int64_t a, int64_t b, pg_srcloc loc) {
    if ((b < 0 && a > INT64_MAX + b) || (b > 0 && a < INT64_MIN + b))
        overflow(ev, loc);
    return a - b;
}

static int64_t int_mul(evaluator *ev, int64_t a, int64_t b, pg_srcloc loc) {
    if (a == 0 || b == 0)
        return 0;
    uint64_t ua = a < 0 ? 0u - (uint64_t)a : (uint64_t)a;
    uint64_t ub = b < 0 ? 0u - (uint64_t)b : (uint64_t)b;
    bool neg = (a < 0) != (b < 0);
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
    if (ua > limit / ub)
        overflow(ev, loc);
    uint64_t p = ua * ub;
    if (p > limit)
        overflow(ev, loc);
    return neg ? (int64_t)(0u - p) : (int64_t)p;
}

static int64_t int_floordiv(evaluator *ev, int64_t a, int64_t b, pg_srcloc loc) {
    if (b == 0)
        eval_error(ev, loc, PG_ERR_ARG, "integer division or modulo by zero");
    if (a == INT64_MIN && b == -1)
        overflow(ev, loc);
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

static int64_t int_mod(evaluator *ev, int64_t a, int64_t b, pg_srcloc loc) {
    if (b == 0)
        eval_error(ev, loc, PG_ERR_ARG, "integer division or modulo by zero");
    if (b == -1)
        return 0;
    int64_t r = a % b;
    if (r != 0 && ((r < 0) != (b < 0)))
        r += b;
    return r;
}

static value int_pow(evaluator *ev, int64_t a, int64_t b, pg_srcloc loc) {
    if (b < 0) {
        if (a == 0)
            eval_error(ev, loc, PG_ERR_ARG, "0.0 cannot be raised to a negative power");
        return value_float(pow((double)a, (double)b));
    }
    int64_t result = 1, base = a;
    while (b > 0) {
        if (b & 1)
            result = int_mul(ev, result, base, loc);
        b >>= 1;
        if (b > 0)
            base = int_mul(ev, base, base, loc);
    }
    return value_int(result);
}

// CPython's float floor division and modulo (Objects/floatobject.c, _float_div_mod).
void value_float_divmod(double vx, double wx, double *floordiv, double *mod) {
    double m = fmod(vx, wx);
    double div = (vx - m) / wx;
    if (m != 0.0) {
        if ((wx < 0) != (m < 0)) {
            m += wx;
            div -= 1.0;
        }
    } else {
        m = copysign(0.0, wx);
    }
    double fd;
    if (div != 0.0) {
        fd = floor(div);
        if (div - fd > 0.5)
            fd += 1.0;
    } else {
        fd = copysign(0.0, vx / wx);
    }
    *floordiv = fd;
    *mod = m;
}

static double float_pow(evaluator *ev, double x, double y, pg_srcloc loc) {
    if (y == 0.0)
        return 1.0;
    if (isnan(x))
        return x;
    if (isnan(y))
        return x == 1.0 ? 1.0 : y;
    if (x == 0.0 && y < 0.0 && isfinite(y))
        eval_error(ev, loc, PG_ERR_ARG, "0.0 cannot be raised to a negative power");
    if (x < 0.0 && isfinite(x) && isfinite(y) && y != floor(y))
        eval_error(ev, loc, PG_ERR_ARG,
                   "negative number cannot be raised to a fractional power (%g ** %g)", x, y);
    double r = pow(x, y);
    if (isinf(r) && isfinite(x) && isfinite(y))
        eval_error(ev, loc, PG_ERR_ARG, "numerical result out of range (%g ** %g)", x, y);
    return r;
}

static value float_arith(evaluator *ev, int op, double x, double y, pg_srcloc loc) {
    double q, m;
    switch (op) {
    case TK_PLUS:
        return value_float(x + y);
    case TK_MINUS:
        return value_float(x - y);
    case TK_STAR:
        return value_float(x * y);
    case TK_SLASH:
        if (y == 0.0)
            eval_error(ev, loc, PG_ERR_ARG, "float division by zero");
        return value_float(x / y);
    case TK_DSLASH:
        if (y == 0.0)
            eval_error(ev, loc, PG_ERR_ARG, "float floor division by zero");
        value_float_divmod(x, y, &q, &m);
        return value_float(q);
    case TK_PERCENT:
        if (y == 0.0)
            eval_error(ev, loc, PG_ERR_ARG, "float modulo by zero");
        value_float_divmod(x, y, &q, &m);
        return value_float(m);
    case TK_DSTAR:
        return value_float(float_pow(ev, x, y, loc));
    default:
        return (value){ .t = VT_UNBOUND };
    }
}

static value int_shift(evaluator *ev, int op, int64_t a, int64_t b, pg_srcloc loc) {
    if (b < 0)
        eval_error(ev, loc, PG_ERR_ARG, "negative shift count");
    if (op == TK_RSHIFT)
        return value_int(b >= 63 ? (a < 0 ? -1 : 0) : a >> b);
    if (a == 0)
        return value_int(0);
    if (b >= 63)
        overflow(ev, loc);
    int64_t r = (int64_t)((uint64_t)a << b);
    if ((r >> b) != a)
        overflow(ev, loc);
    return value_int(r);
}

static value int_arith(evaluator *ev, int op, value va, value vb, pg_srcloc loc) {
    int64_t a = va.u.i, b = vb.u.i;
    switch (op) {
    case TK_PLUS:
        return value_int(int_add(ev, a, b, loc));
    case TK_MINUS:
        return value_int(int_sub(ev, a, b, loc));
    case TK_STAR:
        return value_int(int_mul(ev, a, b, loc));
    case TK_SLASH:
        if (b == 0)
            eval_error(ev, loc, PG_ERR_ARG, "division by zero");
        return value_float((double)a / (double)b);
    case TK_DSLASH:
        return value_int(int_floordiv(ev, a, b, loc));
    case TK_PERCENT:
        return value_int(int_mod(ev, a, b, loc));
    case TK_DSTAR:
        return int_pow(ev, a, b, loc);
    case TK_AMP:
        return va.t == VT_BOOL && vb.t == VT_BOOL ? value_bool(a & b) : value_int(a & b);
    case TK_PIPE:
        return va.t == VT_BOOL && vb.t == VT_BOOL ? value_bool(a | b) : value_int(a | b);
    case TK_CARET:
        return va.t == VT_BOOL && vb.t == VT_BOOL ? value_bool(a ^ b) : value_int(a ^ b);
    case TK_LSHIFT:
    case TK_RSHIFT:
        return int_shift(ev, op, a, b, loc);
    default:
        return (value){ .t = VT_UNBOUND };
    }
}

static const char *op_text(int op) {
    switch (op) {
    case TK_PLUS:
        return "+";
    case TK_MINUS:
        return "-";
    case TK_STAR:
        return "*";
    case TK_SLASH:
        return "/";
    case TK_DSLASH:
        return "//";
    case TK_PERCENT:
        return "%";
    case TK_DSTAR:
        return "**";
    case TK_AMP:
        return "&";
    case TK_PIPE:
        return "|";
    case TK_CARET:
        return "^";
    case TK_LSHIFT:
        return "<<";
    case TK_RSHIFT:
        return ">>";
    case TK_AT:
        return "@";
    default:
        return "?";
    }
}

static _Noreturn void binop_type_error(evaluator *ev, int op, value a, value b, pg_srcloc loc) {
    eval_error(ev, loc, PG_ERR_ARG, "unsupported operand type(s) for %s: '%s' and '%s'",
               op_text(op), value_type_name(a), value_type_name(b));
}

static value seq_concat(evaluator *ev, value a, value b, pg_srcloc loc) {
    value out = value_list(ev, 0);
    value_list_reserve(ev, out.u.l, a.u.l->n + b.u.l->n, loc);
    memcpy(out.u.l->items, a.u.l->items, (size_t)a.u.l->n * sizeof(value));
    memcpy(out.u.l->items + a.u.l->n, b.u.l->items, (size_t)b.u.l->n * sizeof(value));
    out.u.l->n = a.u.l->n + b.u.l->n;
    out.t = a.t;
    return out;
}

static value seq_repeat(evaluator *ev, value seq, int64_t times, pg_srcloc loc) {
    int64_t len = seq.t == VT_STR ? seq.u.s->len : seq.u.l->n;
    // An empty result costs nothing, however large the count: () * 10**15 in a loop must
    // not spin through the count (the step limit counts statements, not these copies).
    if (times <= 0 || len == 0)
        times = 0;
    if (seq.t == VT_STR) {
        if (len && times > ev->lim.max_list / len)
            eval_error(ev, loc, PG_ERR_LIMIT, "string too large (%lld * %lld bytes)",
                       (long long)len, (long long)times);
        char *buf = arena_alloc(ev->a, (size_t)(len * times) + 1);
        for (int64_t i = 0; i < times; i++)
            memcpy(buf + i * len, seq.u.s->data, (size_t)len);
        return value_str(ev, buf, (size_t)(len * times));
    }
    if (len && times > ev->lim.max_list / len)
        eval_error(ev, loc, PG_ERR_LIMIT, "list too large (%lld * %lld elements)", (long long)len,
                   (long long)times);
    value out = value_list(ev, len * times);
    for (int64_t i = 0; i < times; i++)
        memcpy(out.u.l->items + i * len, seq.u.l->items, (size_t)len * sizeof(value));
    out.u.l->n = len * times;
    out.t = seq.t;
    return out;
}

static value str_concat(evaluator *ev, value a, value b) {
    size_t la = (size_t)a.u.s->len, lb = (size_t)b.u.s->len;
    char *buf = arena_alloc(ev->a, la + lb + 1);
    memcpy(buf, a.u.s->data, la);
    memcpy(buf + la, b.u.s->data, lb);
    return value_str(ev, buf, la + lb);
}

static bool is_seq(value v) {
    return v.t == VT_LIST || v.t == VT_TUPLE || v.t == VT_STR;
}

value value_binop(evaluator *ev, int op, value a, value b, pg_srcloc loc) {
    if (value_is_num(a) && value_is_num(b)) {
        value r = (a.t == VT_FLOAT || b.t == VT_FLOAT)
                      ? float_arith(ev, op, value_as_double(a), value_as_double(b), loc)
                      : int_arith(ev, op, a, b, loc);
        if (r.t != VT_UNBOUND)
            return r;
        binop_type_error(ev, op, a, b, loc);
    }
    if (op == TK_PLUS && a.t == b.t && (a.t == VT_LIST || a.t == VT_TUPLE))
        return seq_concat(ev, a, b, loc);
    if (op == TK_PLUS && a.t == VT_STR && b.t == VT_STR)
        return str_concat(ev, a, b);
    if (op == TK_STAR && is_seq(a) && value_is_intlike(b))
        return seq_repeat(ev, a, b.u.i, loc);
    if (op == TK_STAR && value_is_intlike(a) && is_seq(b))
        return seq_repeat(ev, b, a.u.i, loc);
    if (op == TK_PERCENT && a.t == VT_STR)
        return methods_percent_format(ev, a, b, loc);
    binop_type_error(ev, op, a, b, loc);
}

// x op= y: lists are extended / repeated in place, as in Python.
value value_inplace_binop(evaluator *ev, int op, value a, value b, pg_srcloc loc) {
    if (a.t == VT_LIST && op == TK_PLUS) {
        value items = value_to_list(ev, b, loc);
        value_list_reserve(ev, a.u.l, a.u.l->n + items.u.l->n, loc);
        memcpy(a.u.l->items + a.u.l->n, items.u.l->items, (size_t)items.u.l->n * sizeof(value));
        a.u.l->n += items.u.l->n;
        return a;
    }
    if (a.t == VT_LIST && op == TK_STAR && value_is_intlike(b)) {
        value r = seq_repeat(ev, a, b.u.i, loc);
        *a.u.l = *r.u.l;
        return a;
    }
    return value_binop(ev, op, a, b, loc);
}

value value_unary(evaluator *ev, int op, value v, pg_srcloc loc) {
    if (op == TK_NOT)
        return value_bool(!value_truthy(v));
    if (op == '-' || op == TK_MINUS) {
        if (v.t == VT_FLOAT)
            return value_float(-v.u.f);
        if (value_is_intlike(v)) {
            if (v.u.i == INT64_MIN)
                overflow(ev, loc);
            return value_int(-v.u.i);
        }
    } else if (op == '+' || op == TK_PLUS) {
        if (v.t == VT_FLOAT)
            return v;
        if (value_is_intlike(v))
            return value_int(v.u.i);
    } else if ((op == '~' || op == TK_TILDE) && value_is_intlike(v)) {
        return value_int(~v.u.i);
    }
    const char *sym = "-";
    if (op == '~' || op == TK_TILDE)
        sym = "~";
    else if (op == '+' || op == TK_PLUS)
        sym = "+";
    eval_error(ev, loc, PG_ERR_ARG, "bad operand type for unary %s: '%s'", sym, value_type_name(v));
}

// ---- comparisons ----

static bool contains(evaluator *ev, value container, value x, pg_srcloc loc) {
    switch (container.t) {
    case VT_LIST:
    case VT_TUPLE:
        for (int64_t i = 0; i < container.u.l->n; i++)
            if (value_eq(ev, container.u.l->items[i], x, loc))
                return true;
        return false;
    case VT_STR:
        if (x.t != VT_STR)
            eval_error(ev, loc, PG_ERR_ARG, "'in <string>' requires string as left operand, not %s",
                       value_type_name(x));
        if (x.u.s->len == 0)
            return true;
        for (int64_t i = 0; i + x.u.s->len <= container.u.s->len; i++)
            if (memcmp(container.u.s->data + i, x.u.s->data, (size_t)x.u.s->len) == 0)
                return true;
        return false;
    case VT_DICT:
        return value_dict_find(ev, container.u.d, x, loc) != NULL;
    case VT_RANGE: {
        const range_obj *r = container.u.r;
        if (!value_is_num(x) || r->len == 0)
            return false;
        if (x.t == VT_FLOAT && x.u.f != floor(x.u.f))
            return false;
        double d = value_as_double(x);
        if (x.t == VT_FLOAT && (d < -9.2e18 || d > 9.2e18))
            return false;
        int64_t i = x.t == VT_FLOAT ? (int64_t)d : x.u.i;
        int64_t last = r->start + (r->len - 1) * r->step;
        int64_t lo = r->step > 0 ? r->start : last, hi = r->step > 0 ? last : r->start;
        return i >= lo && i <= hi && (i - r->start) % r->step == 0;
    }
    default:
        eval_error(ev, loc, PG_ERR_ARG, "argument of type '%s' is not iterable",
                   value_type_name(container));
    }
}

static bool identical(value a, value b) {
    if (a.t != b.t)
        return false;
    switch (a.t) {
    case VT_NONE:
    case VT_UNBOUND:
        return true;
    case VT_FLOAT:
        return a.u.f == b.u.f;
    case VT_BOOL:
    case VT_INT:
    case VT_KIND:
    case VT_PE:
    case VT_TRANSPORT:
        return a.u.i == b.u.i;
    default:
        return a.u.s == b.u.s; // the same object
    }
}

// Lexicographic comparison of two lists or two tuples, as Python: the first unequal items
// decide, else the lengths.
static bool seq_compare(evaluator *ev, int op, const list_obj *a, const list_obj *b,
                        pg_srcloc loc) {
    int64_t n = a->n < b->n ? a->n : b->n;
    value x = value_int(a->n), y = value_int(b->n);
    for (int64_t i = 0; i < n; i++) {
        if (!value_eq(ev, a->items[i], b->items[i], loc)) {
            x = a->items[i];
            y = b->items[i];
            break;
        }
    }
    value_enter(ev, loc);
    bool r = value_compare(ev, op, x, y, loc);
    value_leave(ev);
    return r;
}

static bool order_result(int op, int c) {
    switch (op) {
    case TK_LT:
        return c < 0;
    case TK_LE:
        return c <= 0;
    case TK_GT:
        return c > 0;
    default:
        return c >= 0;
    }
}

static const char *cmp_text(int op) {
    switch (op) {
    case TK_LT:
        return "<";
    case TK_LE:
        return "<=";
    case TK_GT:
        return ">";
    default:
        return ">=";
    }
}

bool value_compare(evaluator *ev, int op, value a, value b, pg_srcloc loc) {
    switch (op) {
    case TK_EQ:
        return value_eq(ev, a, b, loc);
    case TK_NE:
        return !value_eq(ev, a, b, loc);
    case TK_IN:
        return contains(ev, b, a, loc);
    case TK_NOT_IN:
        return !contains(ev, b, a, loc);
    case TK_IS:
        return identical(a, b);
    case TK_IS_NOT:
        return !identical(a, b);
    default:
        break;
    }
    if (value_is_num(a) && value_is_num(b)) {
        bool unordered;
        int c = value_num_cmp(a, b, &unordered);
        return !unordered && order_result(op, c);
    }
    if (a.t == VT_STR && b.t == VT_STR) {
        int64_t n = a.u.s->len < b.u.s->len ? a.u.s->len : b.u.s->len;
        int c = memcmp(a.u.s->data, b.u.s->data, (size_t)n);
        if (c == 0)
            c = a.u.s->len < b.u.s->len ? -1 : (a.u.s->len > b.u.s->len ? 1 : 0);
        return order_result(op, c);
    }
    if ((a.t == VT_LIST || a.t == VT_TUPLE) && a.t == b.t)
        return seq_compare(ev, op, a.u.l, b.u.l, loc);
    eval_error(ev, loc, PG_ERR_ARG, "'%s' not supported between instances of '%s' and '%s'",
               cmp_text(op), value_type_name(a), value_type_name(b));
}

static int64_t index_of(evaluator *ev, value key, int64_t len, const char *what, pg_srcloc loc) {
    if (!value_is_intlike(key))
        eval_error(ev, loc, PG_ERR_ARG, "%s indices must be integers or slices, not %s", what,
                   value_type_name(key));
    int64_t i = key.u.i;
    if (i < 0)
        i += len;
    if (i < 0 || i >= len)
        eval_error(ev, loc, PG_ERR_ARG, "%s index out of range", what);
    return i;
}

value value_getitem(evaluator *ev, value obj, value key, pg_srcloc loc) {
    switch (obj.t) {
    case VT_LIST:
    case VT_TUPLE:
        return obj.u.l->items[index_of(ev, key, obj.u.l->n, value_type_name(obj), loc)];
    case VT_STR:
        return value_str(ev, obj.u.s->data + index_of(ev, key, obj.u.s->len, "string", loc), 1);
    case VT_RANGE: {
        int64_t i = index_of(ev, key, obj.u.r->len, "range object", loc);
        return value_int(obj.u.r->start + i * obj.u.r->step);
    }
    case VT_DICT: {
        value *v = value_dict_find(ev, obj.u.d, key, loc);
        if (!v) {
            sbuf b = { 0 };
            value_repr(ev, &b, key, 0);
            eval_error(ev, loc, PG_ERR_ARG, "KeyError: %s", b.p);
        }
        return *v;
    }
    default:
        eval_error(ev, loc, PG_ERR_ARG, "'%s' object is not subscriptable", value_type_name(obj));
    }
}

void value_setitem(evaluator *ev, value obj, value key, value v, pg_srcloc loc) {
    if (obj.t == VT_LIST) {
        if (!value_is_intlike(key))
            eval_error(ev, loc, PG_ERR_ARG, "list indices must be integers or slices, not %s",
                       value_type_name(key));
        int64_t i = key.u.i < 0 ? key.u.i + obj.u.l->n : key.u.i;
        if (i < 0 || i >= obj.u.l->n)
            eval_error(ev, loc, PG_ERR_ARG, "list assignment index out of range");
        obj.u.l->items[i] = v;
        return;
    }
    if (obj.t == VT_DICT) {
        value_dict_set(ev, obj.u.d, key, v, loc);
        return;
    }
    eval_error(ev, loc, PG_ERR_ARG, "'%s' object does not support item assignment",
               value_type_name(obj));
}

void value_delitem(evaluator *ev, value obj, value key, pg_srcloc loc) {
    if (obj.t == VT_LIST) {
        int64_t i = index_of(ev, key, obj.u.l->n, "list", loc);
        list_obj *l = obj.u.l;
        memmove(l->items + i, l->items + i + 1, (size_t)(l->n - i - 1) * sizeof(value));
        l->n--;
        return;
    }
    if (obj.t == VT_DICT) {
        if (!value_dict_del(ev, obj.u.d, key, loc))
            value_getitem(ev, obj, key, loc); // reports the KeyError
        return;
    }
    eval_error(ev, loc, PG_ERR_ARG, "'%s' object does not support item deletion",
               value_type_name(obj));
}
