/* schema.h — dispatchd's SQL schema, embedded (an identical copy of sql/schema.sql). */
#ifndef DISPATCHD_SCHEMA_H
#define DISPATCHD_SCHEMA_H

extern const char schema_sql[];

#endif
