/*
 * groupkit._scan: the lanes of the NDJSON loader, in C.
 *
 * Most lines of a group archive are one of two POSTs: one entry, one "messages"
 * change, and either a few status objects, or one participant's message with
 * its contact.  read() reads such lines straight from the bytes into the
 * statuses and messages frames' columns, with no Python object per field, and
 * hands every other line back to Python, where the msgspec walker reads it (and
 * says precisely what is wrong with a bad one).
 *
 * The lanes are deliberately narrow so that they never read a line differently
 * from the walker.  A line is taken only if the whole line is strict JSON of a
 * common shape, every key in it is one that groupkit.schema declares (so no row
 * has an "extra" and nothing goes to other_changes), no number but entry[].time
 * and the timestamps (1-18 digits), no duplicate key, and statuses or a message
 * that each have an "id" and no error objects.  Keys and the status lane's
 * strings are plain printable ASCII; a message's strings may hold any UTF-8 and
 * JSON escapes, decoded exactly as msgspec decodes them (invalid UTF-8, lone
 * surrogates and control bytes go to the walker, which rejects them).  A
 * message's own object (text, image, ...) is written whole to `payload` as
 * canonical JSON, as the walker writes it.  Any doubt at all, and the line goes
 * to the walker: tests check the paths below against the declaration and
 * compare the two readers on every archive the suite reads and on generated and
 * mutated lines.
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

/* ---- the message lane: one participant's message (and its contact) per line ---- */

/* Columns of the messages frame the lane fills with text, in this order. */
enum {
    M_ID, M_GID, M_FROM, M_FUID, M_FPUID, M_CNAME, M_CUSER, M_CWA, M_CUID, M_CPUID, M_CCC,
    M_TYPE, M_TEXT, M_MEDIA_ID, M_MIME, M_SHA, M_URL, M_FILENAME, M_EMOJI, M_REACT_ID, M_CTX_ID,
    M_CTX_FROM, M_PAYLOAD, M_WABA, M_PN, M_DPN, N_MTEXT
};
static const char *MESSAGE_COLUMNS[N_MTEXT] = {
    "message_id", "group_id", "from_id", "from_user_id", "from_parent_user_id", "contact_name",
    "contact_username", "contact_wa_id", "contact_user_id", "contact_parent_user_id",
    "contact_country_code", "type", "text", "media_id", "mime_type", "media_sha256", "media_url",
    "filename", "reaction_emoji", "reaction_message_id", "context_message_id", "context_from",
    "payload", "waba_id", "phone_number_id", "display_phone_number",
};
/* Keys of the message object read into text columns, in the order of the enum. */
static const Key MESSAGE_KEYS[] = {
    NAME("id"), NAME("group_id"), NAME("from"), NAME("from_user_id"), NAME("from_parent_user_id"),
};
#define N_MOWN 5
/* The message types the lane reads: their own object is text, true, false or null
 * members only, written whole (canonical JSON) to `payload`. */
static const Key TYPE_KEYS[] = {
    NAME("text"), NAME("image"), NAME("video"), NAME("audio"), NAME("document"),
    NAME("sticker"), NAME("reaction"),
};
#define N_TYPES 7
enum { T_TEXT, T_IMAGE, T_VIDEO, T_AUDIO, T_DOCUMENT, T_STICKER, T_REACTION };
/* Every JSON path of a message line that the lane reads; a test checks them
 * against groupkit.schema (the own type object is read whole, as `payload`). */
static const char *MESSAGE_PATHS[] = {
    "id", "group_id", "from", "from_user_id", "from_parent_user_id", "timestamp", "type",
    "context.id", "context.from", "context.forwarded", "context.frequently_forwarded",
    "@contact.profile.name", "@contact.profile.username", "@contact.username",
    "@contact.wa_id", "@contact.user_id", "@contact.parent_user_id",
    "@contact.profile.country_code", "@contact.country_code",
    "text.body", "image.caption", "video.caption", "audio.caption", "document.caption",
    "sticker.caption", "image.id", "video.id", "audio.id", "document.id", "sticker.id",
    "image.mime_type", "video.mime_type", "audio.mime_type", "document.mime_type",
    "sticker.mime_type", "image.sha256", "video.sha256", "audio.sha256", "document.sha256",
    "sticker.sha256", "image.url", "video.url", "audio.url", "document.url", "sticker.url",
    "document.filename", "reaction.emoji", "reaction.message_id",
};
#define N_MPATHS (sizeof MESSAGE_PATHS / sizeof MESSAGE_PATHS[0])

/* A member of a message's own object: its key, and text (kind 0), null (1),
 * true (2) or false (3). */
typedef struct {
    Str k, v;
    int kind;
} Member;
#define MAX_MEMBERS 16

typedef struct {
    Str f[N_MTEXT]; /* by the enum above; payload is written from mem */
    Int ts;
    int fwd, ffwd; /* -1 null or absent, 0 false, 1 true */
    int own;       /* index in TYPE_KEYS of the own object, -1 none */
    Member mem[MAX_MEMBERS];
    int nmem;
    int has;       /* a message was read on this line */
} Msg;

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
    /* the message lane */
    TextCol mtext[N_MTEXT];
    Buf mts_valid, mts, mtime_valid, mtime, fwd_valid, fwd, ffwd_valid, ffwd, mloc;
    Py_ssize_t mrows;
    Msg msg;
    int ncontacts;
    /* Decoded text of the line's strings with escapes: sized to the line before
     * it is read (decoding never lengthens a string), so a Str into it stays valid. */
    char *scratch;
    Py_ssize_t scratch_len, scratch_cap;
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

/* A declared column with two paths: the first that holds a value wins. */
static inline Str first(Str a, Str b) { return a.p != NULL ? a : b; }

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

/* The length of the UTF-8 sequence at p (strict: no overlong forms, no
 * surrogates, nothing above U+10FFFF, as msgspec decodes), or 0 if invalid. */
static inline int utf8_len(const unsigned char *p, const unsigned char *e)
{
    unsigned char c = p[0];
    if (c < 0xC2 || c > 0xF4)
        return 0;
    if (c < 0xE0)
        return e - p >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c < 0xF0) {
        if (e - p < 3 || (p[2] & 0xC0) != 0x80)
            return 0;
        unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        return p[1] >= lo && p[1] <= hi ? 3 : 0;
    }
    if (e - p < 4 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
        return 0;
    unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    return p[1] >= lo && p[1] <= hi ? 4 : 0;
}

static inline int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* A JSON string as msgspec decodes it: UTF-8 text, escapes decoded.  Without
 * escapes *out is the bytes in place; with them, the decoded text in the
 * scratch buffer.  Lone surrogates, bad escapes, control bytes and invalid
 * UTF-8 go to the walker, which says what is wrong. */
static int ustr(P *x, Str *out, Out *o)
{
    if (!at(x, '"'))
        return ROUTE;
    const char *s = ++x->p;
    char *w = NULL; /* where decoded text goes, once an escape is met */
    for (;;) {
        while (x->e - x->p >= 8) {
            uint64_t v;
            memcpy(&v, x->p, sizeof v);
            if (special8(v))
                break;
            if (w) {
                memcpy(w, x->p, 8);
                w += 8;
            }
            x->p += 8;
        }
        if (x->p >= x->e)
            return ROUTE;
        unsigned char c = (unsigned char)*x->p;
        if (c == '"') {
            if (w) {
                out->p = o->scratch + o->scratch_len;
                out->n = w - out->p;
                o->scratch_len += out->n;
            }
            else {
                out->p = s;
                out->n = x->p - s;
            }
            x->p++;
            return 0;
        }
        if (c < 0x20)
            return ROUTE;
        if (c >= 0x80) {
            int n = utf8_len((const unsigned char *)x->p, (const unsigned char *)x->e);
            if (n == 0)
                return ROUTE;
            if (w) {
                memcpy(w, x->p, (size_t)n);
                w += n;
            }
            x->p += n;
            continue;
        }
        if (c != '\\') {
            if (w)
                *w++ = (char)c;
            x->p++;
            continue;
        }
        if (w == NULL) { /* the first escape: copy what came before it */
            w = o->scratch + o->scratch_len;
            memcpy(w, s, (size_t)(x->p - s));
            w += x->p - s;
        }
        if (x->e - x->p < 2)
            return ROUTE;
        char esc = x->p[1];
        x->p += 2;
        switch (esc) {
        case '"': *w++ = '"'; continue;
        case '\\': *w++ = '\\'; continue;
        case '/': *w++ = '/'; continue;
        case 'b': *w++ = '\b'; continue;
        case 'f': *w++ = '\f'; continue;
        case 'n': *w++ = '\n'; continue;
        case 'r': *w++ = '\r'; continue;
        case 't': *w++ = '\t'; continue;
        case 'u': break;
        default: return ROUTE;
        }
        unsigned u, lo;
        if (x->e - x->p < 4 || hex4(x->p, &u))
            return ROUTE;
        x->p += 4;
        if (u >= 0xDC00 && u <= 0xDFFF)
            return ROUTE;
        if (u >= 0xD800 && u <= 0xDBFF) {
            if (x->e - x->p < 6 || x->p[0] != '\\' || x->p[1] != 'u' || hex4(x->p + 2, &lo) ||
                lo < 0xDC00 || lo > 0xDFFF)
                return ROUTE;
            x->p += 6;
            u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
        }
        if (u < 0x80) {
            *w++ = (char)u;
        }
        else if (u < 0x800) {
            *w++ = (char)(0xC0 | (u >> 6));
            *w++ = (char)(0x80 | (u & 0x3F));
        }
        else if (u < 0x10000) {
            *w++ = (char)(0xE0 | (u >> 12));
            *w++ = (char)(0x80 | ((u >> 6) & 0x3F));
            *w++ = (char)(0x80 | (u & 0x3F));
        }
        else {
            *w++ = (char)(0xF0 | (u >> 18));
            *w++ = (char)(0x80 | ((u >> 12) & 0x3F));
            *w++ = (char)(0x80 | ((u >> 6) & 0x3F));
            *w++ = (char)(0x80 | (u & 0x3F));
        }
    }
}

static int ustr_or_null(P *x, Str *out, Out *o)
{
    if (at(x, 'n')) {
        out->p = NULL;
        out->n = 0;
        return lit(x, "null", 4);
    }
    return ustr(x, out, o);
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

/* null, or an object whose members are text (or null) fields named in keys: out[i].
 * With o, text may hold any UTF-8 and escapes (ustr); without, plain ASCII (str). */
static int ustr_or_null(P *x, Str *out, Out *o);
static int text_fields(P *x, const Key *keys, int n, Str *out, Out *o)
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
        if (o ? ustr_or_null(x, &out[i], o) : str_or_null(x, &out[i]))
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
            if (text_fields(x, ORIGIN_KEYS, 1, &st->conv_cat, NULL))
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

/* true, false or null: 1, 0 or -1. */
static int flag(P *x, int *out)
{
    if (lit(x, "true", 4) == 0)
        *out = 1;
    else if (lit(x, "false", 5) == 0)
        *out = 0;
    else if (lit(x, "null", 4) == 0)
        *out = -1;
    else
        return ROUTE;
    return 0;
}

static const Key PROFILE_KEYS[] = {NAME("name"), NAME("username"), NAME("country_code")};
static const Key CONTACT_KEYS[] = {
    NAME("wa_id"), NAME("user_id"), NAME("parent_user_id"), NAME("username"), NAME("country_code"),
};

/* The one contact of a message line: every key declared, so nothing is left over. */
static int contact(P *x, Out *o)
{
    Str k, prof[3], own[5] = {{NULL, 0}, {NULL, 0}, {NULL, 0}, {NULL, 0}, {NULL, 0}};
    int r;
    unsigned seen = 0;
    prof[0].p = prof[1].p = prof[2].p = NULL;
    MEMBERS(x, k, r)
    {
        if (KEY(k, "profile")) {
            ONCE(5);
            if (text_fields(x, PROFILE_KEYS, 3, prof, o))
                return ROUTE;
            continue;
        }
        int i = find(k, CONTACT_KEYS, 5);
        if (i < 0)
            return ROUTE;
        ONCE(i);
        if (ustr_or_null(x, &own[i], o))
            return ROUTE;
    }
    Str *f = o->msg.f;
    f[M_CWA] = own[0];
    f[M_CUID] = own[1];
    f[M_CPUID] = own[2];
    f[M_CNAME] = prof[0];
    f[M_CUSER] = first(prof[1], own[3]); /* the declared order: profile's first */
    f[M_CCC] = first(prof[2], own[4]);
    END(r);
}

/* null, an empty list, or a list of one contact. */
static int contacts(P *x, Out *o)
{
    if (at(x, 'n'))
        return lit(x, "null", 4);
    if (!at(x, '['))
        return ROUTE;
    x->p++;
    ws(x);
    if (at(x, ']')) {
        x->p++;
        return 0;
    }
    int r = contact(x, o);
    if (r)
        return r;
    o->ncontacts = 1;
    ws(x);
    if (!at(x, ']'))
        return ROUTE;
    x->p++;
    return 0;
}

static int context(P *x, Msg *m, Out *o)
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
            if (ustr_or_null(x, &m->f[M_CTX_ID], o))
                return ROUTE;
        }
        else if (KEY(k, "from")) {
            ONCE(1);
            if (ustr_or_null(x, &m->f[M_CTX_FROM], o))
                return ROUTE;
        }
        else if (KEY(k, "forwarded")) {
            ONCE(2);
            if (flag(x, &m->fwd))
                return ROUTE;
        }
        else if (KEY(k, "frequently_forwarded")) {
            ONCE(3);
            if (flag(x, &m->ffwd))
                return ROUTE;
        }
        else
            return ROUTE;
    }
    END(r);
}

/* The message's own object (text, image, ...): members of text, true, false or
 * null, kept for `payload`; a duplicate key goes to the walker. */
static int own_object(P *x, Msg *m, Out *o)
{
    Str k;
    int r;
    MEMBERS(x, k, r)
    {
        if (m->nmem == MAX_MEMBERS)
            return ROUTE;
        for (int i = 0; i < m->nmem; i++)
            if (m->mem[i].k.n == k.n && memcmp(m->mem[i].k.p, k.p, (size_t)k.n) == 0)
                return ROUTE;
        Member *mb = &m->mem[m->nmem++];
        mb->k = k;
        mb->v.p = NULL;
        mb->v.n = 0;
        if (at(x, '"')) {
            mb->kind = 0;
            if (ustr(x, &mb->v, o))
                return ROUTE;
        }
        else if (flag(x, &mb->kind))
            return ROUTE;
        else
            mb->kind = mb->kind < 0 ? 1 : mb->kind == 1 ? 2 : 3;
    }
    END(r);
}

/* The own object's members that columns declare (text or null only). */
static int own_columns(Msg *m)
{
    int media = m->own >= T_IMAGE && m->own <= T_STICKER;
    for (int i = 0; i < m->nmem; i++) {
        Member *mb = &m->mem[i];
        int col = -1;
        if (m->own == T_TEXT) {
            if (KEY(mb->k, "body"))
                col = M_TEXT;
        }
        else if (media) {
            if (KEY(mb->k, "caption"))
                col = M_TEXT;
            else if (KEY(mb->k, "id"))
                col = M_MEDIA_ID;
            else if (KEY(mb->k, "mime_type"))
                col = M_MIME;
            else if (KEY(mb->k, "sha256"))
                col = M_SHA;
            else if (KEY(mb->k, "url"))
                col = M_URL;
            else if (m->own == T_DOCUMENT && KEY(mb->k, "filename"))
                col = M_FILENAME;
        }
        else if (KEY(mb->k, "emoji"))
            col = M_EMOJI;
        else if (KEY(mb->k, "message_id"))
            col = M_REACT_ID;
        if (col < 0)
            continue;
        if (mb->kind > 1)
            return ROUTE; /* true or false where text belongs: the walker decides */
        m->f[col] = mb->v;
    }
    return 0;
}

static int message(P *x, Out *o)
{
    Msg *m = &o->msg;
    Str k, type = {NULL, 0};
    int r;
    unsigned seen = 0;
    MEMBERS(x, k, r)
    {
        int i = find(k, MESSAGE_KEYS, N_MOWN);
        if (i >= 0) {
            ONCE(i);
            if (ustr_or_null(x, &m->f[M_ID + i], o))
                return ROUTE;
            continue;
        }
        if (KEY(k, "timestamp")) {
            ONCE(N_MOWN);
            if (digits(x, &m->ts, 0))
                return ROUTE;
        }
        else if (KEY(k, "type")) {
            ONCE(N_MOWN + 1);
            if (str(x, &type))
                return ROUTE;
        }
        else if (KEY(k, "context")) {
            ONCE(N_MOWN + 2);
            if (context(x, m, o))
                return ROUTE;
        }
        else if ((i = find(k, TYPE_KEYS, N_TYPES)) >= 0) {
            if (m->own >= 0) /* two own objects (or one twice): the walker's */
                return ROUTE;
            m->own = i;
            if (own_object(x, m, o))
                return ROUTE;
        }
        else
            return ROUTE;
    }
    if (r || m->f[M_ID].p == NULL || m->own < 0)
        return ROUTE;
    /* `type` names the own object, which is there: anything else, the walker. */
    if (type.p == NULL || type.n != TYPE_KEYS[m->own].n ||
        memcmp(type.p, TYPE_KEYS[m->own].name, (size_t)type.n) != 0)
        return ROUTE;
    m->f[M_TYPE] = type;
    m->has = 1;
    return own_columns(m);
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
            if (text_fields(x, METADATA_KEYS, 2, c->meta, NULL))
                return ROUTE;
        }
        else if (KEY(k, "statuses")) {
            ONCE(1);
            if (at(x, 'n')) {
                if (lit(x, "null", 4))
                    return ROUTE;
            }
            else if ((r = statuses(x, o)))
                return r;
        }
        else if (KEY(k, "messaging_product")) {
            ONCE(2);
            if (exactly(x, "whatsapp"))
                return ROUTE;
        }
        else if (KEY(k, "messages")) {
            ONCE(3);
            if (at(x, 'n')) {
                if (lit(x, "null", 4))
                    return ROUTE;
            }
            else
                ONLY_ONE(x, message(x, o));
        }
        else if (KEY(k, "contacts")) {
            ONCE(4);
            if (contacts(x, o))
                return ROUTE;
        }
        else if (KEY(k, "groups") || KEY(k, "errors")) {
            /* Anything but null here: a line for the walker. */
            if (lit(x, "null", 4))
                return ROUTE;
        }
        else
            return ROUTE;
    }
    if (r)
        return ROUTE;
    /* Statuses (and no contacts), or one message: any other mix, the walker. */
    if (o->msg.has)
        return o->nst == 0 ? 0 : ROUTE;
    if (o->nst == 0 || o->ncontacts)
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

/* s as msgspec encodes a string: '"', '\\' and control characters escaped
 * (the short forms where JSON has them), everything else as it is. */
static int put_json_text(Buf *b, Str s)
{
    static const char hex[] = "0123456789abcdef";
    const char *p = s.p, *e = s.p + s.n, *run = p;
    if (buf_put(b, "\"", 1))
        return -1;
    for (; p < e; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        char esc[6] = {'\\', 0, '0', '0', 0, 0};
        Py_ssize_t n = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        }
        if (buf_put(b, run, p - run) || buf_put(b, esc, n))
            return -1;
        run = p + 1;
    }
    return buf_put(b, run, e - run) || buf_put(b, "\"", 1) ? -1 : 0;
}

static int member_before(const Member *a, const Member *b)
{
    Py_ssize_t n = a->k.n < b->k.n ? a->k.n : b->k.n;
    int c = memcmp(a->k.p, b->k.p, (size_t)n);
    return c < 0 || (c == 0 && a->k.n < b->k.n);
}

/* The own object as canonical JSON (groupkit.load.walk.canonical): members in
 * key order, no spaces.  Keys are plain ASCII, so byte order is code point order. */
static int put_payload(TextCol *c, Py_ssize_t row, Msg *m)
{
    Member *mem = m->mem;
    for (int i = 1; i < m->nmem; i++) /* insertion sort: a handful of members */
        for (int j = i; j > 0 && member_before(&mem[j], &mem[j - 1]); j--) {
            Member t = mem[j];
            mem[j] = mem[j - 1];
            mem[j - 1] = t;
        }
    if ((c->filled < row || c->offsets.len == 0) && text_fill(c, row))
        return -1;
    if (row % 8 == 0) {
        char zero = 0;
        if (buf_put(&c->valid, &zero, 1))
            return -1;
    }
    c->valid.d[row / 8] |= (char)(1 << (row % 8));
    Buf *b = &c->data;
    if (buf_put(b, "{", 1))
        return -1;
    for (int i = 0; i < m->nmem; i++) {
        static const char *words[] = {NULL, "null", "true", "false"};
        if ((i && buf_put(b, ",", 1)) || put_json_text(b, mem[i].k) || buf_put(b, ":", 1))
            return -1;
        if (mem[i].kind == 0 ? put_json_text(b, mem[i].v)
                             : buf_put(b, words[mem[i].kind], (Py_ssize_t)strlen(words[mem[i].kind])))
            return -1;
    }
    if (buf_put(b, "}", 1))
        return -1;
    c->filled = row + 1;
    int64_t end = (int64_t)b->len;
    return buf_put(&c->offsets, &end, sizeof end);
}

static int emit_message(Out *o, Ctx *c, int64_t loc)
{
    Msg *m = &o->msg;
    Py_ssize_t row = o->mrows;
    m->f[M_WABA] = c->waba;
    m->f[M_PN] = c->meta[0];
    m->f[M_DPN] = c->meta[1];
    for (int k = 0; k < N_MTEXT; k++) {
        if (k == M_PAYLOAD) {
            if (put_payload(&o->mtext[k], row, m))
                return -1;
        }
        else if (put_text(&o->mtext[k], row, m->f[k]))
            return -1;
    }
    int fwd = m->fwd < 0 && m->ffwd < 0 ? -1 : (m->fwd == 1 || m->ffwd == 1);
    if (put_int(&o->mts_valid, &o->mts, row, m->ts) ||
        put_int(&o->mtime_valid, &o->mtime, row, c->time) ||
        put_bit(&o->fwd_valid, row, fwd >= 0) || put_bit(&o->fwd, row, fwd == 1) ||
        put_bit(&o->ffwd_valid, row, m->ffwd >= 0) || put_bit(&o->ffwd, row, m->ffwd == 1) ||
        buf_put(&o->mloc, &loc, sizeof loc))
        return -1;
    o->mrows++;
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
    for (int c = 0; c < N_MTEXT; c++) {
        buf_free(&o->mtext[c].valid);
        buf_free(&o->mtext[c].offsets);
        buf_free(&o->mtext[c].data);
    }
    Buf *more[] = {&o->mts_valid, &o->mts, &o->mtime_valid, &o->mtime, &o->fwd_valid,
                   &o->fwd, &o->ffwd_valid, &o->ffwd, &o->mloc};
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++)
        buf_free(more[i]);
    PyMem_Free(o->scratch);
}

/* One (validity, offsets, data) triple per text column, or None where a column
 * held no value. */
static PyObject *text_columns(TextCol *cols, int n, Py_ssize_t rows)
{
    PyObject *text = PyTuple_New(n);
    if (text == NULL)
        return NULL;
    for (int c = 0; c < n; c++) {
        TextCol *col = &cols[c];
        PyObject *t;
        if (col->filled == 0) {
            t = Py_NewRef(Py_None); /* every value null */
        }
        else if (text_fill(col, rows)) {
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
    return text;
}

static PyObject *columns(Out *o)
{
    PyObject *text = text_columns(o->text, N_TEXT, o->rows);
    if (text == NULL)
        return NULL;
    return Py_BuildValue("(N(NN)(NN)(NN)(NN)N)", text, bytes_of(&o->ts_valid), bytes_of(&o->ts),
                         bytes_of(&o->exp_valid), bytes_of(&o->exp), bytes_of(&o->time_valid),
                         bytes_of(&o->time), bytes_of(&o->bill_valid), bytes_of(&o->bill),
                         bytes_of(&o->loc));
}

static PyObject *message_columns(Out *o)
{
    PyObject *text = text_columns(o->mtext, N_MTEXT, o->mrows);
    if (text == NULL)
        return NULL;
    return Py_BuildValue("(N(NN)(NN)(NN)(NN)N)", text, bytes_of(&o->mts_valid), bytes_of(&o->mts),
                         bytes_of(&o->mtime_valid), bytes_of(&o->mtime), bytes_of(&o->fwd_valid),
                         bytes_of(&o->fwd), bytes_of(&o->ffwd_valid), bytes_of(&o->ffwd),
                         bytes_of(&o->mloc));
}

PyDoc_STRVAR(read_doc,
"read(data, first_line) -> (lines, taken, routed, routed_locs, statuses, messages)\n\n"
"Read the lanes of an NDJSON block.  ``lines`` counts its lines (a final newline\n"
"ends the last one), ``taken`` the lines read here; ``routed`` holds every other\n"
"non-blank line, for the walker, and ``routed_locs`` their line numbers.\n"
"``statuses`` is (rows, (text, timestamp, conversation expiry, entry time,\n"
"(billable validity, billable bits), int64 line numbers)); ``messages`` is (rows,\n"
"(text, timestamp, entry time, forwarded, frequently forwarded, int64 line\n"
"numbers)).  Each integer or boolean column is a (validity, values) pair and\n"
"``text`` one (validity, int64 offsets, data) triple per column of TEXT_COLUMNS\n"
"or MESSAGE_COLUMNS, or None for a column with no value.");

static inline void msg_reset(Msg *m)
{
    memset(m->f, 0, sizeof m->f);
    m->ts.has = 0;
    m->fwd = m->ffwd = m->own = -1;
    m->nmem = m->has = 0;
}

static PyObject *scan_read(PyObject *self, PyObject *args)
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
            o.ncontacts = 0;
            msg_reset(&o.msg);
            if (o.scratch_cap < e - s) {
                PyMem_Free(o.scratch);
                o.scratch_cap = (e - s) * 2;
                o.scratch = PyMem_Malloc((size_t)o.scratch_cap);
                if (o.scratch == NULL) {
                    o.scratch_cap = 0;
                    PyErr_NoMemory();
                    goto done;
                }
            }
            o.scratch_len = 0;
            ws(&x);
            int r = record(&x, &o, &c);
            if (r < 0)
                goto done;
            if (r == 0) {
                if (o.msg.has ? emit_message(&o, &c, loc) : emit(&o, &c, loc))
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
        PyObject *cols = columns(&o), *mcols = cols ? message_columns(&o) : NULL;
        if (mcols != NULL)
            result = Py_BuildValue("(nnOO(nN)(nN))", lines, taken, routed, locs, o.rows, cols,
                                   o.mrows, mcols);
        else
            Py_XDECREF(cols);
    }
done:
    Py_XDECREF(routed);
    Py_XDECREF(locs);
    out_free(&o);
    PyBuffer_Release(&view);
    return result;
}

PyDoc_STRVAR(hash_text_doc,
"hash_text(offsets, data, offset, length, large, out) -> None\n\n"
"64-bit hashes of ``length`` strings of an Arrow string array (its\n"
"``offsets`` and ``data`` buffers, from row ``offset``; int64 offsets when\n"
"``large``), written to ``out``, a writable buffer of that many uint64.  For\n"
"finding candidate duplicates fast: equal strings hash alike; unequal ones\n"
"rarely do, and candidates are compared in full after.");

static PyObject *scan_hash_text(PyObject *self, PyObject *args)
{
    (void)self;
    Py_buffer offs, data, out;
    Py_ssize_t offset, length;
    int large;
    PyObject *result = NULL;
    if (!PyArg_ParseTuple(args, "y*y*nnpw*", &offs, &data, &offset, &length, &large, &out))
        return NULL;
    Py_ssize_t width = large ? 8 : 4;
    if (offset < 0 || length < 0 || offset > PY_SSIZE_T_MAX / width - length - 1 ||
        (offset + length + 1) * width > offs.len || length > out.len / 8) {
        PyErr_SetString(PyExc_ValueError, "hash_text: buffers too small for the rows asked");
        goto done;
    }
    const unsigned char *d = data.buf;
    uint64_t *h = out.buf;
    for (Py_ssize_t i = 0; i < length; i++) {
        int64_t a, b;
        if (large) {
            memcpy(&a, (const char *)offs.buf + (offset + i) * 8, 8);
            memcpy(&b, (const char *)offs.buf + (offset + i + 1) * 8, 8);
        }
        else {
            int32_t a4, b4;
            memcpy(&a4, (const char *)offs.buf + (offset + i) * 4, 4);
            memcpy(&b4, (const char *)offs.buf + (offset + i + 1) * 4, 4);
            a = a4;
            b = b4;
        }
        if (a < 0 || b < a || b > data.len) {
            PyErr_SetString(PyExc_ValueError, "hash_text: offsets outside the data");
            goto done;
        }
        /* Eight bytes a step (a multiply and a shift), the length mixed in: ids are
         * tens of bytes, and a byte at a time was most of the time. */
        uint64_t v = 0x9e3779b97f4a7c15ULL ^ (uint64_t)(b - a), w;
        int64_t k = a;
        for (; k + 8 <= b; k += 8) {
            memcpy(&w, d + k, 8);
            v = (v ^ w) * 0xff51afd7ed558ccdULL;
            v ^= v >> 32;
        }
        w = 0;
        memcpy(&w, d + k, (size_t)(b - k));
        v = (v ^ w) * 0xc4ceb9fe1a85ec53ULL;
        v ^= v >> 29;
        h[i] = v;
    }
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&offs);
    PyBuffer_Release(&data);
    PyBuffer_Release(&out);
    return result;
}

PyDoc_STRVAR(checksum_doc,
"checksum(buffer) -> int\n\n"
"Two 64-bit Fletcher-style sums over the buffer's 8-byte words (the tail padded\n"
"with zeros, the length mixed in), as one 128-bit number, computed without the\n"
"GIL: any changed byte changes it.  The cache's check that a mapped Arrow file\n"
"is the one it wrote, at memory speed (zlib's CRC-32 ran at 2 GB/s and was most\n"
"of a cached reload).");

static PyObject *scan_checksum(PyObject *self, PyObject *arg)
{
    (void)self;
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE))
        return NULL;
    const unsigned char *p = view.buf;
    Py_ssize_t n = view.len, i = 0;
    uint64_t a = 1, b = (uint64_t)n, w;
    Py_BEGIN_ALLOW_THREADS
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, p + i, 8);
        a += w;
        b += a;
    }
    w = 0;
    memcpy(&w, p + i, (size_t)(n - i));
    a += w;
    b += a;
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    /* Both sums, as one 128-bit number: folding them into 64 bits could cancel a
     * flip of a word's top bit. */
    PyObject *hi = PyLong_FromUnsignedLongLong(b), *lo = PyLong_FromUnsignedLongLong(a);
    PyObject *shift = PyLong_FromLong(64), *up = NULL, *out = NULL;
    if (hi && lo && shift && (up = PyNumber_Lshift(hi, shift)))
        out = PyNumber_Or(up, lo);
    Py_XDECREF(hi);
    Py_XDECREF(lo);
    Py_XDECREF(shift);
    Py_XDECREF(up);
    return out;
}

PyDoc_STRVAR(newlines_doc, "newlines(buffer) -> int\n\nThe number of newline bytes in a buffer.");

static Py_ssize_t count_byte(const char *s, const char *end, char c)
{
    /* Compare and add in 255-byte rounds of byte counters: a loop the compiler
     * turns into vector instructions, several times faster than a memchr per
     * match on NDJSON, where a newline comes every few hundred bytes. */
    Py_ssize_t n = 0;
    while (end - s >= 255 * 16) {
        unsigned char acc[16] = {0};
        for (int round = 0; round < 255; round++, s += 16)
            for (int k = 0; k < 16; k++)
                acc[k] += s[k] == c;
        for (int k = 0; k < 16; k++)
            n += acc[k];
    }
    for (; s < end; s++)
        n += *s == c;
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
    {"read", scan_read, METH_VARARGS, read_doc},
    {"newlines", scan_newlines, METH_O, newlines_doc},
    {"hash_text", scan_hash_text, METH_VARARGS, hash_text_doc},
    {"checksum", scan_checksum, METH_O, checksum_doc},
    {"brackets", scan_brackets, METH_O, brackets_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "groupkit._scan",
    .m_doc = "The status and message lanes of the NDJSON loader, in C (see groupkit/load/lane.py).",
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
    struct {
        const char *name, **items;
        Py_ssize_t n;
    } tables[] = {
        {"TEXT_COLUMNS", TEXT_COLUMNS, N_TEXT},
        {"PATHS", PATHS, (Py_ssize_t)N_PATHS},
        {"MESSAGE_COLUMNS", MESSAGE_COLUMNS, N_MTEXT},
        {"MESSAGE_PATHS", MESSAGE_PATHS, (Py_ssize_t)N_MPATHS},
    };
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        PyObject *t = names(tables[i].items, tables[i].n);
        if (t == NULL || PyModule_AddObjectRef(m, tables[i].name, t) < 0) {
            Py_XDECREF(t);
            Py_DECREF(m);
            return NULL;
        }
        Py_DECREF(t);
    }
    return m;
}
