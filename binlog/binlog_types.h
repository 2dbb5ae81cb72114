/*
 * binlog_types.h: event type codes and column type codes of MySQL 5.5 to
 * 9.x and MariaDB 10.x/11.x, with their names.
 *
 * The numbers are the wire values. MySQL allocates from 0 upwards, MariaDB
 * from 160 upwards, so one table serves both flavours.
 */
#ifndef SLUICE_BINLOG_TYPES_H
#define SLUICE_BINLOG_TYPES_H

#include <stdint.h>

/* clang-format off */
/*       name                        code */
#define BINLOG_EVENT_TYPES(X)                       \
	X(UNKNOWN_EVENT,               0)           \
	X(START_EVENT_V3,              1)           \
	X(QUERY_EVENT,                 2)           \
	X(STOP_EVENT,                  3)           \
	X(ROTATE_EVENT,                4)           \
	X(INTVAR_EVENT,                5)           \
	X(LOAD_EVENT,                  6)           \
	X(SLAVE_EVENT,                 7)           \
	X(CREATE_FILE_EVENT,           8)           \
	X(APPEND_BLOCK_EVENT,          9)           \
	X(EXEC_LOAD_EVENT,             10)          \
	X(DELETE_FILE_EVENT,           11)          \
	X(NEW_LOAD_EVENT,              12)          \
	X(RAND_EVENT,                  13)          \
	X(USER_VAR_EVENT,              14)          \
	X(FORMAT_DESCRIPTION_EVENT,    15)          \
	X(XID_EVENT,                   16)          \
	X(BEGIN_LOAD_QUERY_EVENT,      17)          \
	X(EXECUTE_LOAD_QUERY_EVENT,    18)          \
	X(TABLE_MAP_EVENT,             19)          \
	X(PRE_GA_WRITE_ROWS_EVENT,     20)          \
	X(PRE_GA_UPDATE_ROWS_EVENT,    21)          \
	X(PRE_GA_DELETE_ROWS_EVENT,    22)          \
	X(WRITE_ROWS_EVENT_V1,         23)          \
	X(UPDATE_ROWS_EVENT_V1,        24)          \
	X(DELETE_ROWS_EVENT_V1,        25)          \
	X(INCIDENT_EVENT,              26)          \
	X(HEARTBEAT_LOG_EVENT,         27)          \
	X(IGNORABLE_LOG_EVENT,         28)          \
	X(ROWS_QUERY_LOG_EVENT,        29)          \
	X(WRITE_ROWS_EVENT,            30)          \
	X(UPDATE_ROWS_EVENT,           31)          \
	X(DELETE_ROWS_EVENT,           32)          \
	X(GTID_LOG_EVENT,              33)          \
	X(ANONYMOUS_GTID_LOG_EVENT,    34)          \
	X(PREVIOUS_GTIDS_LOG_EVENT,    35)          \
	X(TRANSACTION_CONTEXT_EVENT,   36)          \
	X(VIEW_CHANGE_EVENT,           37)          \
	X(XA_PREPARE_LOG_EVENT,        38)          \
	X(PARTIAL_UPDATE_ROWS_EVENT,   39)          \
	X(TRANSACTION_PAYLOAD_EVENT,   40)          \
	X(HEARTBEAT_LOG_EVENT_V2,      41)          \
	X(GTID_TAGGED_LOG_EVENT,       42)          \
	X(MARIA_ANNOTATE_ROWS_EVENT,   160)         \
	X(MARIA_BINLOG_CHECKPOINT_EVENT, 161)       \
	X(MARIA_GTID_EVENT,            162)         \
	X(MARIA_GTID_LIST_EVENT,       163)         \
	X(MARIA_START_ENCRYPTION_EVENT, 164)        \
	X(MARIA_QUERY_COMPRESSED_EVENT, 165)        \
	X(MARIA_WRITE_ROWS_COMPRESSED_EVENT_V1, 166) \
	X(MARIA_UPDATE_ROWS_COMPRESSED_EVENT_V1, 167) \
	X(MARIA_DELETE_ROWS_COMPRESSED_EVENT_V1, 168) \
	X(MARIA_WRITE_ROWS_COMPRESSED_EVENT, 169)   \
	X(MARIA_UPDATE_ROWS_COMPRESSED_EVENT, 170)  \
	X(MARIA_DELETE_ROWS_COMPRESSED_EVENT, 171)

enum binlog_event_type {
#define BINLOG__EV_ENUM(name, code) BINLOG_##name = code,
	BINLOG_EVENT_TYPES(BINLOG__EV_ENUM)
#undef BINLOG__EV_ENUM
};
/* clang-format on */

/* "WRITE_ROWS_EVENT" etc., or NULL for a code no server defines. */
const char *binlog_event_type_name(unsigned type);

/* 1 for the event types that carry row images (v1, v2, partial, and
 * MariaDB's compressed ones); their decoded form is binlog_rows_t. */
static inline int binlog_event_is_rows(unsigned type)
{
	switch (type) {
	case BINLOG_WRITE_ROWS_EVENT_V1:
	case BINLOG_UPDATE_ROWS_EVENT_V1:
	case BINLOG_DELETE_ROWS_EVENT_V1:
	case BINLOG_WRITE_ROWS_EVENT:
	case BINLOG_UPDATE_ROWS_EVENT:
	case BINLOG_DELETE_ROWS_EVENT:
	case BINLOG_PARTIAL_UPDATE_ROWS_EVENT:
	case BINLOG_MARIA_WRITE_ROWS_COMPRESSED_EVENT_V1:
	case BINLOG_MARIA_UPDATE_ROWS_COMPRESSED_EVENT_V1:
	case BINLOG_MARIA_DELETE_ROWS_COMPRESSED_EVENT_V1:
	case BINLOG_MARIA_WRITE_ROWS_COMPRESSED_EVENT:
	case BINLOG_MARIA_UPDATE_ROWS_COMPRESSED_EVENT:
	case BINLOG_MARIA_DELETE_ROWS_COMPRESSED_EVENT:
		return 1;
	default:
		return 0;
	}
}

/*
 * Column types as TABLE_MAP writes them. ENUM and SET never appear there
 * directly (they travel as STRING with the real type in the metadata) but
 * are listed because the decoder resolves STRING to them.
 */
/* clang-format off */
/*       name          code */
#define BINLOG_COLUMN_TYPES(X)             \
	X(DECIMAL,     0)                  \
	X(TINY,        1)                  \
	X(SHORT,       2)                  \
	X(LONG,        3)                  \
	X(FLOAT,       4)                  \
	X(DOUBLE,      5)                  \
	X(NULL,        6)                  \
	X(TIMESTAMP,   7)                  \
	X(LONGLONG,    8)                  \
	X(INT24,       9)                  \
	X(DATE,        10)                 \
	X(TIME,        11)                 \
	X(DATETIME,    12)                 \
	X(YEAR,        13)                 \
	X(NEWDATE,     14)                 \
	X(VARCHAR,     15)                 \
	X(BIT,         16)                 \
	X(TIMESTAMP2,  17)                 \
	X(DATETIME2,   18)                 \
	X(TIME2,       19)                 \
	X(TYPED_ARRAY, 20)                 \
	X(BLOB_COMPRESSED, 140)            \
	X(VARCHAR_COMPRESSED, 141)         \
	X(VECTOR,      242)                \
	X(INVALID,     243)                \
	X(BOOL,        244)                \
	X(JSON,        245)                \
	X(NEWDECIMAL,  246)                \
	X(ENUM,        247)                \
	X(SET,         248)                \
	X(TINY_BLOB,   249)                \
	X(MEDIUM_BLOB, 250)                \
	X(LONG_BLOB,   251)                \
	X(BLOB,        252)                \
	X(VAR_STRING,  253)                \
	X(STRING,      254)                \
	X(GEOMETRY,    255)

enum binlog_column_type {
#define BINLOG__COL_ENUM(name, code) BINLOG_TYPE_##name = code,
	BINLOG_COLUMN_TYPES(BINLOG__COL_ENUM)
#undef BINLOG__COL_ENUM
};
/* clang-format on */

/* "LONGLONG", "NEWDECIMAL", ... or NULL for an unknown code. */
const char *binlog_column_type_name(unsigned type);

/* The column types TABLE_MAP's optional metadata gives a signedness bit
 * (SIGNEDNESS), and those it gives a charset (COLUMN_CHARSET; MariaDB also
 * for GEOMETRY and its compressed columns). Types as a TABLE_MAP writes
 * them or as the decoder resolves them. */
int binlog_column_is_numeric(uint8_t type);
int binlog_column_has_charset(uint8_t type, int flavor);

/* Event header flags. */
#define BINLOG_LOG_EVENT_BINLOG_IN_USE_F 0x0001
#define BINLOG_LOG_EVENT_ARTIFICIAL_F    0x0020
#define BINLOG_LOG_EVENT_IGNORABLE_F     0x0080

/* Rows event flags. */
#define BINLOG_ROWS_STMT_END_F       0x0001
#define BINLOG_ROWS_NO_FOREIGN_KEY_F 0x0002
#define BINLOG_ROWS_RELAXED_UNIQUE_F 0x0004
#define BINLOG_ROWS_COMPLETE_ROWS_F  0x0008

/* Checksum algorithms named by FORMAT_DESCRIPTION. */
#define BINLOG_CHECKSUM_OFF   0
#define BINLOG_CHECKSUM_CRC32 1
#define BINLOG_CHECKSUM_UNDEF 255

#define BINLOG_HEADER_LEN 19
#define BINLOG_MAGIC_LEN  4

#endif
