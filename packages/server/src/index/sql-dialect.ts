/** The two databases the index runs on: embedded SQLite (one node) or PostgreSQL (cluster). */
export type IndexDialect = 'sqlite' | 'postgres';
