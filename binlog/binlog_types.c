/*
 * binlog_types.c: names of event and column type codes, for messages and
 * statistics.
 */
#include "binlog_types.h"

#include <stddef.h>

const char *binlog_event_type_name(unsigned type)
{
	switch (type) {
#define BINLOG__EV_NAME(name, code)                                                                \
	case code:                                                                                 \
		return #name;
		BINLOG_EVENT_TYPES(BINLOG__EV_NAME)
#undef BINLOG__EV_NAME
	default:
		return NULL;
	}
}

const char *binlog_column_type_name(unsigned type)
{
	switch (type) {
#define BINLOG__COL_NAME(name, code)                                                               \
	case code:                                                                                 \
		return #name;
		BINLOG_COLUMN_TYPES(BINLOG__COL_NAME)
#undef BINLOG__COL_NAME
	default:
		return NULL;
	}
}
