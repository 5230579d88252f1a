/*
 * groupkit._scan: the status lane of the NDJSON loader, in C.
 *
 * Nineteen lines in twenty of a group archive are the same POST: one entry, one
 * "messages" change, a few status objects and nothing else.  statuses() reads
 * such lines straight from the bytes into the statuses frame's columns, with no
 * Python object per field, and hands every other line back to Python, where the
 * msgspec walker reads it (and says precisely what is wrong with a bad one).
 *
 * The lane is deliberately narrow so that it never reads a line differently from
 * the walker.  It takes a line only if the whole line is strict JSON of the
 * common shape, every key in it is one that groupkit.schema declares (so no
 * row has an "extra" and nothing goes to other_changes), every string is plain
 * printable ASCII (no escapes), no number but entry[].time and the timestamps
 * (1-18 digits), no duplicate key, and statuses that each have an "id" and no
 * error objects.  Any doubt at all, and the line goes to the walker: tests check
 * the paths below against the declaration and compare the two readers on every
 * archive the suite reads and on generated and mutated lines.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define ROUTE 1 /* not for the lane: the walker reads this line */

typedef struct {
    const char *p; /* NULL: null or absent */
    Py_ssize_t n;
} Str;

/* A growing buffer, kept in a bytes object so that it is handed to Python
 * without a copy (resized to its length, then given away). */
typedef struct {
    PyObject *obj;
    char *d;
    Py_ssize_t len, cap;
} Buf;

static int buf_grow(Buf *b, Py_ssize_t n);

/* Appends are most of the lane's writes: inline, with the growth out of line. */
static inline int buf_put(Buf *b, const void *src, Py_ssize_t n)
{
    if (b->len + n > b->cap && buf_grow(b, n))
        return -1;
    if (n)
        memcpy(b->d + b->len, src, (size_t)n);
    b->len += n;
    return 0;
}

static int buf_grow(Buf *b, Py_ssize_t n)
{
    if (n > PY_SSIZE_T_MAX / 8 - b->len) { /* cap stays under 4 (len + n) */
        PyErr_NoMemory();
        return -1;
    }
    /* Grow fourfold: a block's columns reach a few MB, and each growth copies. */
    Py_ssize_t cap = b->cap ? b->cap : 1 << 16;
    while (cap < b->len + n)
        cap *= 4;
    if (b->obj == NULL)
        b->obj = PyBytes_FromStringAndSize(NULL, cap);
    else if (_PyBytes_Resize(&b->obj, cap) < 0)
        b->obj = NULL; /* freed by the failed resize */
    if (b->obj == NULL) {
        b->d = NULL;
        b->len = b->cap = 0;
        return -1;
    }
    b->d = PyBytes_AS_STRING(b->obj);
    b->cap = cap;
    return 0;
}

/* Columns the lane fills with text, in this order (see TEXT_COLUMNS below). */
enum {
    C_ID, C_STATUS, C_RID, C_RTYPE, C_GID, C_RPID, C_PRID, C_RPUID, C_RPPUID, C_BIZ,
    C_RUID, C_RPARENT, C_CONV_ID, C_CONV_CAT, C_PCAT, C_PTYPE, C_PMODEL, C_PSUB, C_WABA, C_PN,
    C_DPN, N_TEXT
};
/* Fields read from the status object itself, in the order of the enum above. */
#define NAME(w) {w, sizeof(w) - 1}
typedef struct {
    const char *name;
    Py_ssize_t n;
} Key;
static const Key STATUS_KEYS[] = {
    NAME("id"), NAME("status"), NAME("recipient_id"), NAME("recipient_type"), NAME("group_id"),
    NAME("recipient_participant_id"), NAME("participant_recipient_id"),
    NAME("recipient_participant_user_id"), NAME("recipient_participant_parent_user_id"),
    NAME("biz_opaque_callback_data"), NAME("recipient_user_id"), NAME("recipient_parent_user_id"),
};
#define N_OWN 12
/* The raw text columns, named as groupkit/load/lane.py reads them. */
static const char *TEXT_COLUMNS[N_TEXT] = {
    "message_id", "status", "recipient_id", "recipient_type", "group_id",
    "recipient_participant_id", "participant_recipient_id", "participant_user_id",
    "participant_parent_user_id", "biz_opaque_callback_data", "recipient_user_id",
    "recipient_parent_user_id", "conversation_id", "conversation_category", "pricing_category",
    "pricing_type", "pricing_model", "pricing_subtype", "waba_id", "phone_number_id",
    "display_phone_number",
};
/* Every JSON path the lane reads (groupkit.schema's spelling); any other key sends
 * the line to the walker.  A test checks them against the declaration. */
static const char *PATHS[] = {
    "object", "@entry.id", "@entry.time", "@change.field", "value.messaging_product",
    "@value.metadata.phone_number_id", "@value.metadata.display_phone_number",
    "id", "status", "recipient_id", "recipient_type", "group_id", "recipient_participant_id",
    "participant_recipient_id", "recipient_participant_user_id",
    "recipient_participant_parent_user_id", "biz_opaque_callback_data", "recipient_user_id",
    "recipient_parent_user_id", "timestamp", "errors", "conversation.id", "conversation.origin.type",
    "conversation.expiration_timestamp", "pricing.category", "pricing.type",
    "pricing.pricing_model", "pricing.subtype", "pricing.billable",
    "conversation.pricing.category", "conversation.pricing.type",
    "conversation.pricing.pricing_model", "conversation.pricing.subtype",
    "conversation.pricing.billable",
};
#define N_PATHS (sizeof PATHS / sizeof PATHS[0])

typedef struct {
    int64_t v;
    int has;
} Int;

typedef struct {
    Str own[N_OWN];
    Str conv_id, conv_cat;
    Str sib[4], nest[4]; /* category, type, pricing_model, subtype */
    int sib_billable, nest_billable; /* -1 null, 0 false, 1 true */
    Int ts, expires;
} Status;

typedef struct {
    Buf valid, offsets, data;
    Py_ssize_t filled; /* rows written; none while the column has held only nulls */
} TextCol;

typedef struct {
    TextCol text[N_TEXT];
    Buf ts_valid, ts, exp_valid, exp, time_valid, time, bill_valid, bill, loc;
    Py_ssize_t rows;
    Status *st; /* the statuses of the line being read */
    Py_ssize_t nst, capst;
} Out;

typedef struct {
    const char *p, *e;
} P;

static inline void ws(P *x)
{
    while (x->p < x->e && (*x->p == ' ' || *x->p == '\t' || *x->p == '\r'))
        x->p++;
}

static inline int at(P *x, char c) { return x->p < x->e && *x->p == c; }

/* Eight bytes at a time: nonzero when any byte of w is '"', '\\', a control
 * character or not ASCII (the classic SWAR tests; exact as booleans). */
#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL
static inline uint64_t special8(uint64_t w)
{
    uint64_t q = w ^ (ONES * '"'), b = w ^ (ONES * '\\');
    return (((q - ONES) & ~q) | ((b - ONES) & ~b) | (w - ONES * 0x20) | w) & HIGHS;
}

/* A string of printable ASCII without escapes; anything else goes to the walker. */
static int str(P *x, Str *out)
{
    if (!at(x, '"'))
        return ROUTE;
    const char *s = ++x->p;
    /* Most strings are ids of plain characters: skip them a word at a time, then
     * look at the word that holds the closing quote byte by byte. */
    while (x->e - x->p >= 8) {
        uint64_t w, m;
        memcpy(&w, x->p, sizeof w);
        m = special8(w);
        if (!m) {
            x->p += 8;
            continue;
        }
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        /* The lowest flagged byte is exact (a borrow only runs upward from a
         * flagged byte): it is the closing quote, or the string is not plain. */
        x->p += __builtin_ctzll(m) >> 3;
        if (*x->p != '"')
            return ROUTE;
        out->p = s;
        out->n = x->p - s;
        x->p++;
        return 0;
#else
        break;
#endif
    }
    while (x->p < x->e) {
        unsigned char c = (unsigned char)*x->p;
        if (c == '"') {
            out->p = s;
            out->n = x->p - s;
            x->p++;
            return 0;
        }
        if (c == '\\' || c < 0x20 || c >= 0x80)
            return ROUTE;
        x->p++;
    }
    return ROUTE;
}

static int lit(P *x, const char *w, Py_ssize_t n)
{
    if (x->e - x->p >= n && memcmp(x->p, w, (size_t)n) == 0) {
        x->p += n;
        return 0;
    }
    return ROUTE;
}

static int str_or_null(P *x, Str *out)
{
    if (at(x, 'n')) {
        out->p = NULL;
        out->n = 0;
        return lit(x, "null", 4);
    }
    return str(x, out);
}

/* Object members one at a time: 1 with x at the value of *key, 0 at the end of
 * the object, BAD where it is not an object. */
#define BAD 2
static int member(P *x, int *first, Str *key)
{
    ws(x);
    if (*first) {
        if (!at(x, '{'))
            return BAD;
        x->p++;
        ws(x);
        *first = 0;
        if (at(x, '}')) {
            x->p++;
            return 0;
        }
    }
    else {
        if (at(x, '}')) {
            x->p++;
            return 0;
        }
        if (!at(x, ','))
            return BAD;
        x->p++;
        ws(x);
    }
    if (str(x, key))
        return BAD;
    ws(x);
    if (!at(x, ':'))
        return BAD;
    x->p++;
    ws(x);
    return 1;
}

#define KEY(k, w) \
    ((k).n == (Py_ssize_t)sizeof(w) - 1 && *(k).p == *(w) && memcmp((k).p, w, sizeof(w) - 1) == 0)
/* Mark key number b as seen in this object; a duplicate goes to the walker. */
#define ONCE(b)              \
    do {                     \
        if (seen & (1u << (b))) \
            return ROUTE;    \
        seen |= 1u << (b);   \
    } while (0)
#define MEMBERS(x, k, r) for (int first_ = 1; ((r) = member((x), &first_, &(k))) == 1;)
#define END(r) return (r) ? ROUTE : 0

/* null, or an empty list. */
static int nothing(P *x)
{
    if (at(x, 'n'))
        return lit(x, "null", 4);
    if (!at(x, '['))
        return ROUTE;
    x->p++;
    ws(x);
    if (!at(x, ']'))
        return ROUTE;
    x->p++;
    return 0;
}

static const Key PRICING_KEYS[] = {
    NAME("category"), NAME("type"), NAME("pricing_model"), NAME("subtype"),
};

/* The index of key k in keys, or -1. */
static int find(Str k, const Key *keys, int n)
{
    for (int i = 0; i < n; i++)
        if (k.n == keys[i].n && *k.p == *keys[i].name && memcmp(k.p, keys[i].name, (size_t)k.n) == 0)
            return i;
    return -1;
}

static int pricing(P *x, Str f[4], int *billable)
{
    Str k;
    int r;
    unsigned seen = 0;
    f[0].p = f[1].p = f[2].p = f[3].p = NULL;
    *billable = -1;
    if (at(x, 'n'))
        return lit(x, "null", 4);
    MEMBERS(x, k, r)
    {
        int i = find(k, PRICING_KEYS, 4);
        if (i >= 0) {
            ONCE(i);
            if (str_or_null(x, &f[i]))
                return ROUTE;
        }
        else if (KEY(k, "billable")) {
            ONCE(4);
            if (lit(x, "true", 4) == 0)
                *billable = 1;
            else if (lit(x, "false", 5) == 0)
                *billable = 0;
            else if (lit(x, "null", 4) != 0)
                return ROUTE;
        }
        else
            return ROUTE;
    }
    END(r);
}

/* null, or an object whose members are text (or null) fields named in keys: out[i]. */
static int text_fields(P *x, const Key *keys, int n, Str *out)
{
    Str k;
    int r;
    unsigned seen = 0;
    for (int i = 0; i < n; i++)
        out[i].p = NULL;
    if (at(x, 'n'))
        return lit(x, "null", 4);
    MEMBERS(x, k, r)
    {
        int i = find(k, keys, n);
        if (i < 0)
            return ROUTE;
        ONCE(i);
        if (str_or_null(x, &out[i]))
            return ROUTE;
    }
    END(r);
}

static const Key ORIGIN_KEYS[] = {NAME("type")};
static const Key METADATA_KEYS[] = {NAME("phone_number_id"), NAME("display_phone_number")};

/* null, or 1-18 decimal digits: as a string, or (numbers allowed) as a bare number. */
static int digits(P *x, Int *out, int numbers)
{
    Str s;
    out->has = 0;
    if (at(x, 'n'))
        return lit(x, "null", 4);
    if (at(x, '"')) {
        if (str(x, &s))
            return ROUTE;
    }
    else {
        if (!numbers)
            return ROUTE;
        s.p = x->p;
        while (x->p < x->e && *x->p >= '0' && *x->p <= '9')
            x->p++;
        s.n = x->p - s.p;
        /* 1.5, 1e9, -1: the walker reads those */
        if (x->p < x->e && (*x->p == '.' || *x->p == 'e' || *x->p == 'E'))
            return ROUTE;
    }
    if (s.n < 1 || s.n > 18)
        return ROUTE;
    int64_t v = 0;
    for (Py_ssize_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return ROUTE;
        v = v * 10 + (s.p[i] - '0');
    }
    out->v = v;
    out->has = 1;
    return 0;
}

static int conversation(P *x, Status *st)
{
    Str k;
    int r;
    unsigned seen = 0;
    if (at(x, 'n'))
        return lit(x, "null", 4);
    MEMBERS(x, k, r)
    {
        if (KEY(k, "id")) {
            ONCE(0);
            if (str_or_null(x, &st->conv_id))
                return ROUTE;
        }
        else if (KEY(k, "origin")) {
            ONCE(1);
            if (text_fields(x, ORIGIN_KEYS, 1, &st->conv_cat))
                return ROUTE;
        }
        else if (KEY(k, "pricing")) {
            ONCE(2);
            if (pricing(x, st->nest, &st->nest_billable))
                return ROUTE;
        }
        else if (KEY(k, "expiration_timestamp")) {
            ONCE(3);
            if (digits(x, &st->expires, 1))
                return ROUTE;
        }
        else
            return ROUTE;
    }
    END(r);
}

static int status(P *x, Status *st)
{
    Str k;
    int r;
    unsigned seen = 0;
    memset(st, 0, sizeof *st);
    st->sib_billable = st->nest_billable = -1;
    MEMBERS(x, k, r)
    {
        int i = find(k, STATUS_KEYS, N_OWN);
        if (i >= 0) {
            ONCE(i);
            if (str_or_null(x, &st->own[i]))
                return ROUTE;
        }
        else if (KEY(k, "timestamp")) {
            ONCE(N_OWN);
            if (digits(x, &st->ts, 0))
                return ROUTE;
        }
        else if (KEY(k, "conversation")) {
            ONCE(N_OWN + 1);
            if (conversation(x, st))
                return ROUTE;
        }
        else if (KEY(k, "pricing")) {
            ONCE(N_OWN + 2);
            if (pricing(x, st->sib, &st->sib_billable))
                return ROUTE;
        }
        else if (KEY(k, "errors")) {
            ONCE(N_OWN + 3);
            if (nothing(x))
                return ROUTE;
        }
        else
            return ROUTE;
    }
    if (r || st->own[C_ID].p == NULL)
        return ROUTE; /* a status without an id is a reject: the walker says so */
    return 0;
}

static int statuses(P *x, Out *o)
{
    if (!at(x, '['))
        return ROUTE;
    x->p++;
    for (;;) {
        ws(x);
        if (o->nst == o->capst) {
            Py_ssize_t cap = o->capst ? o->capst * 2 : 16;
            Status *st = PyMem_Realloc(o->st, (size_t)cap * sizeof(Status));
            if (st == NULL) {
                PyErr_NoMemory();
                return -1;
            }
            o->st = st;
            o->capst = cap;
        }
        int r = status(x, &o->st[o->nst]);
        if (r)
            return r;
        o->nst++;
        ws(x);
        if (at(x, ']')) {
            x->p++;
            return 0;
        }
        if (!at(x, ','))
            return ROUTE;
        x->p++;
    }
}

/* The text `want`, and nothing else. */
static int exactly(P *x, const char *want)
{
    Str s;
    Py_ssize_t n = (Py_ssize_t)strlen(want);
    if (str(x, &s) || s.n != n || memcmp(s.p, want, (size_t)n) != 0)
        return ROUTE;
    return 0;
}

typedef struct {
    Str waba, meta[2]; /* phone_number_id, display_phone_number */
    Int time;
} Ctx;

static int value(P *x, Out *o, Ctx *c)
{
    Str k;
    int r;
    unsigned seen = 0;
    MEMBERS(x, k, r)
    {
        if (KEY(k, "metadata")) {
            ONCE(0);
            if (text_fields(x, METADATA_KEYS, 2, c->meta))
                return ROUTE;
        }
        else if (KEY(k, "statuses")) {
            ONCE(1);
            if ((r = statuses(x, o)))
                return r;
        }
        else if (KEY(k, "messaging_product")) {
            ONCE(2);
            if (exactly(x, "whatsapp"))
                return ROUTE;
        }
        else if (KEY(k, "messages") || KEY(k, "contacts") || KEY(k, "groups") ||
                 KEY(k, "errors")) {
            /* Anything but null here: a line for the walker. */
            if (lit(x, "null", 4))
                return ROUTE;
        }
        else
            return ROUTE;
    }
    if (r || !(seen & 2))
        return ROUTE;
    return 0;
}

static int change(P *x, Out *o, Ctx *c)
{
    Str k, field = {NULL, 0};
    int r;
    unsigned seen = 0;
    MEMBERS(x, k, r)
    {
        if (KEY(k, "field")) {
            ONCE(0);
            if (str(x, &field))
                return ROUTE;
        }
        else if (KEY(k, "value")) {
            ONCE(1);
            if ((r = value(x, o, c)))
                return r;
        }
        else
            return ROUTE;
    }
    if (r || seen != 3 || !KEY(field, "messages"))
        return ROUTE;
    return 0;
}

/* A list of exactly one item, read by fn. */
#define ONLY_ONE(x, call)    \
    do {                     \
        if (!at(x, '['))     \
            return ROUTE;    \
        (x)->p++;            \
        ws(x);               \
        int r_ = (call);     \
        if (r_)              \
            return r_;       \
        ws(x);               \
        if (!at(x, ']'))     \
            return ROUTE;    \
        (x)->p++;            \
    } while (0)

static int entry(P *x, Out *o, Ctx *c)
{
    Str k;
    int r;
    unsigned seen = 0;
    MEMBERS(x, k, r)
    {
        if (KEY(k, "id")) {
            ONCE(0);
            if (str_or_null(x, &c->waba))
                return ROUTE;
        }
        else if (KEY(k, "changes")) {
            ONCE(1);
            ONLY_ONE(x, change(x, o, c));
        }
        else if (KEY(k, "time")) {
            ONCE(2);
            if (digits(x, &c->time, 1))
                return ROUTE;
        }
        else
            return ROUTE;
    }
    if (r || !(seen & 2))
        return ROUTE;
    return 0;
}

static int record(P *x, Out *o, Ctx *c)
{
    Str k;
    int r;
    unsigned seen = 0;
    MEMBERS(x, k, r)
    {
        if (KEY(k, "entry")) {
            ONCE(0);
            ONLY_ONE(x, entry(x, o, c));
        }
        else if (KEY(k, "object")) {
            ONCE(1);
            if (exactly(x, "whatsapp_business_account"))
                return ROUTE;
        }
        else
            return ROUTE; /* envelopes and anything undeclared take the walker's path */
    }
    if (r || !(seen & 1))
        return ROUTE;
    ws(x);
    return x->p == x->e ? 0 : ROUTE;
}

/* Nulls for rows [filled, upto) of a column, after its first offset. */
static int text_fill(TextCol *c, Py_ssize_t upto)
{
    int64_t end = (int64_t)c->data.len;
    if (c->offsets.len == 0 && buf_put(&c->offsets, &end, sizeof end))
        return -1;
    for (; c->filled < upto; c->filled++) {
        char zero = 0;
        if ((c->filled % 8 == 0 && buf_put(&c->valid, &zero, 1)) ||
            buf_put(&c->offsets, &end, sizeof end))
            return -1;
    }
    return 0;
}

/* Half the text columns are null on nearly every line (recipient user ids,
 * callback data, ...): a column writes nothing until its first value, and its
 * nulls before that are filled in then, or it is handed back as None. */
static inline int put_text(TextCol *c, Py_ssize_t row, Str s)
{
    if (s.p == NULL && c->filled == 0)
        return 0;
    if ((c->filled < row || c->offsets.len == 0) && text_fill(c, row))
        return -1;
    if (row % 8 == 0) {
        char zero = 0;
        if (buf_put(&c->valid, &zero, 1))
            return -1;
    }
    if (s.p != NULL) {
        c->valid.d[row / 8] |= (char)(1 << (row % 8));
        if (buf_put(&c->data, s.p, s.n))
            return -1;
    }
    c->filled = row + 1;
    int64_t end = (int64_t)c->data.len;
    return buf_put(&c->offsets, &end, sizeof end);
}

static inline int put_bit(Buf *b, Py_ssize_t row, int on)
{
    if (row % 8 == 0) {
        char zero = 0;
        if (buf_put(b, &zero, 1))
            return -1;
    }
    if (on)
        b->d[row / 8] |= (char)(1 << (row % 8));
    return 0;
}

static int put_int(Buf *valid, Buf *values, Py_ssize_t row, Int v)
{
    int64_t value = v.has ? v.v : 0;
    if (put_bit(valid, row, v.has) || buf_put(values, &value, sizeof value))
        return -1;
    return 0;
}

/* A declared column with two paths: the first that holds a value wins. */
static inline Str first(Str a, Str b) { return a.p != NULL ? a : b; }

static int emit(Out *o, Ctx *c, int64_t loc)
{
    for (Py_ssize_t i = 0; i < o->nst; i++) {
        Status *st = &o->st[i];
        Py_ssize_t row = o->rows;
        int billable = st->sib_billable >= 0 ? st->sib_billable : st->nest_billable;
        for (int k = 0; k < N_OWN; k++)
            if (put_text(&o->text[k], row, st->own[k]))
                return -1;
        if (put_text(&o->text[C_CONV_ID], row, st->conv_id) ||
            put_text(&o->text[C_CONV_CAT], row, st->conv_cat) ||
            put_text(&o->text[C_PCAT], row, first(st->sib[0], st->nest[0])) ||
            put_text(&o->text[C_PTYPE], row, first(st->sib[1], st->nest[1])) ||
            put_text(&o->text[C_PMODEL], row, first(st->sib[2], st->nest[2])) ||
            put_text(&o->text[C_PSUB], row, first(st->sib[3], st->nest[3])) ||
            put_text(&o->text[C_WABA], row, c->waba) || put_text(&o->text[C_PN], row, c->meta[0]) ||
            put_text(&o->text[C_DPN], row, c->meta[1]))
            return -1;
        if (put_int(&o->ts_valid, &o->ts, row, st->ts) ||
            put_int(&o->exp_valid, &o->exp, row, st->expires) ||
            put_int(&o->time_valid, &o->time, row, c->time) ||
            put_bit(&o->bill_valid, row, billable >= 0) ||
            put_bit(&o->bill, row, billable == 1) || buf_put(&o->loc, &loc, sizeof loc))
            return -1;
        o->rows++;
    }
    return 0;
}

static int is_blank(const char *s, const char *e)
{
    for (; s < e; s++)
        if (!(*s == ' ' || *s == '\t' || *s == '\r' || *s == '\x0b' || *s == '\x0c'))
            return 0;
    return 1;
}

/* The buffer's bytes, given away (the Buf is left empty). */
static PyObject *bytes_of(Buf *b)
{
    PyObject *out = b->obj;
    if (out == NULL)
        return PyBytes_FromStringAndSize("", 0);
    b->obj = NULL;
    b->d = NULL;
    if (_PyBytes_Resize(&out, b->len) < 0)
        out = NULL;
    b->len = b->cap = 0;
    return out;
}

static void buf_free(Buf *b)
{
    Py_CLEAR(b->obj);
    b->d = NULL;
    b->len = b->cap = 0;
}

static void out_free(Out *o)
{
    for (int c = 0; c < N_TEXT; c++) {
        buf_free(&o->text[c].valid);
        buf_free(&o->text[c].offsets);
        buf_free(&o->text[c].data);
    }
    buf_free(&o->ts_valid);
    buf_free(&o->ts);
    buf_free(&o->exp_valid);
    buf_free(&o->exp);
    buf_free(&o->time_valid);
    buf_free(&o->time);
    buf_free(&o->bill_valid);
    buf_free(&o->bill);
    buf_free(&o->loc);
    PyMem_Free(o->st);
}

static PyObject *columns(Out *o)
{
    PyObject *text = PyTuple_New(N_TEXT);
    if (text == NULL)
        return NULL;
    for (int c = 0; c < N_TEXT; c++) {
        TextCol *col = &o->text[c];
        PyObject *t;
        if (col->filled == 0) {
            t = Py_NewRef(Py_None); /* every value null */
        }
        else if (text_fill(col, o->rows)) {
            t = NULL;
        }
        else {
            t = Py_BuildValue("(NNN)", bytes_of(&col->valid), bytes_of(&col->offsets),
                              bytes_of(&col->data));
        }
        if (t == NULL) {
            Py_DECREF(text);
            return NULL;
        }
        PyTuple_SET_ITEM(text, c, t);
    }
    return Py_BuildValue("(N(NN)(NN)(NN)(NN)N)", text, bytes_of(&o->ts_valid), bytes_of(&o->ts),
                         bytes_of(&o->exp_valid), bytes_of(&o->exp), bytes_of(&o->time_valid),
                         bytes_of(&o->time), bytes_of(&o->bill_valid), bytes_of(&o->bill),
                         bytes_of(&o->loc));
}

PyDoc_STRVAR(statuses_doc,
"statuses(data, first_line) -> (lines, taken, routed, routed_locs, rows, columns)\n\n"
"Read the status lane of an NDJSON block.  ``lines`` counts its lines (a final\n"
"newline ends the last one), ``taken`` the lines read here; ``routed`` holds every\n"
"other non-blank line, for the walker, and ``routed_locs`` their line numbers.\n"
"``columns`` is (text, timestamp, conversation expiry, entry time, (billable\n"
"validity, billable bits), int64 line numbers), each integer column a (validity,\n"
"int64 values) pair and ``text`` one (validity, int64 offsets, data) triple per\n"
"column of TEXT_COLUMNS, or None for a column with no value; ``rows`` rows in all.");

static PyObject *scan_statuses(PyObject *self, PyObject *args)
{
    (void)self;
    Py_buffer view;
    long long first_line;
    if (!PyArg_ParseTuple(args, "y*L", &view, &first_line))
        return NULL;
    if (first_line < 0 || first_line > ((long long)1 << 62)) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "first_line is out of range");
        return NULL;
    }
    Out o;
    memset(&o, 0, sizeof o);
    PyObject *routed = PyList_New(0), *locs = PyList_New(0), *result = NULL;
    Py_ssize_t lines = 0, taken = 0;
    const char *s = view.buf, *end = s + view.len;
    if (routed == NULL || locs == NULL)
        goto done;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *e = nl ? nl : end;
        int64_t loc = first_line + lines;
        lines++;
        if (!is_blank(s, e)) {
            P x = {s, e};
            Ctx c;
            memset(&c, 0, sizeof c);
            o.nst = 0;
            ws(&x);
            int r = record(&x, &o, &c);
            if (r < 0)
                goto done;
            if (r == 0) {
                if (emit(&o, &c, loc))
                    goto done;
                taken++;
            }
            else {
                PyObject *line = PyBytes_FromStringAndSize(s, e - s);
                PyObject *at_loc = PyLong_FromLongLong(loc);
                int bad = line == NULL || at_loc == NULL || PyList_Append(routed, line) ||
                          PyList_Append(locs, at_loc);
                Py_XDECREF(line);
                Py_XDECREF(at_loc);
                if (bad)
                    goto done;
            }
        }
        s = nl ? nl + 1 : end;
    }
    {
        PyObject *cols = columns(&o);
        if (cols != NULL)
            result = Py_BuildValue("(nnOOnN)", lines, taken, routed, locs, o.rows, cols);
    }
done:
    Py_XDECREF(routed);
    Py_XDECREF(locs);
    out_free(&o);
    PyBuffer_Release(&view);
    return result;
}

PyDoc_STRVAR(newlines_doc, "newlines(buffer) -> int\n\nThe number of newline bytes in a buffer.");

static Py_ssize_t count_byte(const char *s, const char *end, char c)
{
    Py_ssize_t n = 0;
    while ((s = memchr(s, c, (size_t)(end - s))) != NULL) {
        n++;
        s++;
    }
    return n;
}

static PyObject *scan_newlines(PyObject *self, PyObject *arg)
{
    (void)self;
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE))
        return NULL;
    const char *s = view.buf, *end = s + view.len;
    Py_ssize_t n;
    Py_BEGIN_ALLOW_THREADS
    n = count_byte(s, end, '\n');
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return PyLong_FromSsize_t(n);
}

PyDoc_STRVAR(brackets_doc, "brackets(buffer) -> int\n\n"
"The number of '{' and '[' bytes in a buffer (strings included): a bound on how\n"
"deep its JSON can nest, found with memchr.");

static PyObject *scan_brackets(PyObject *self, PyObject *arg)
{
    (void)self;
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE))
        return NULL;
    const char *s = view.buf, *end = s + view.len;
    Py_ssize_t n = count_byte(s, end, '{') + count_byte(s, end, '[');
    PyBuffer_Release(&view);
    return PyLong_FromSsize_t(n);
}

static PyMethodDef methods[] = {
    {"statuses", scan_statuses, METH_VARARGS, statuses_doc},
    {"newlines", scan_newlines, METH_O, newlines_doc},
    {"brackets", scan_brackets, METH_O, brackets_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "groupkit._scan",
    .m_doc = "The status lane of the NDJSON loader, in C (see groupkit/load/lane.py).",
    .m_size = -1,
    .m_methods = methods,
};

static PyObject *names(const char **items, Py_ssize_t n)
{
    PyObject *t = PyTuple_New(n);
    if (t == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *u = PyUnicode_FromString(items[i]);
        if (u == NULL) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, i, u);
    }
    return t;
}

PyMODINIT_FUNC PyInit__scan(void)
{
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    PyObject *text = names(TEXT_COLUMNS, N_TEXT), *paths = names(PATHS, (Py_ssize_t)N_PATHS);
    if (text == NULL || paths == NULL || PyModule_AddObjectRef(m, "TEXT_COLUMNS", text) < 0 ||
        PyModule_AddObjectRef(m, "PATHS", paths) < 0) {
        Py_XDECREF(text);
        Py_XDECREF(paths);
        Py_DECREF(m);
        return NULL;
    }
    Py_DECREF(text);
    Py_DECREF(paths);
    return m;
}
