// The first index schema: patient → study → series → instance, with an index on every column
// a query filters, joins or sorts by (query plans must hold at 10^8 instances).
import { sql, type Kysely, type Migration } from 'kysely';
import type { IndexDialect } from '../sql-dialect.js';

export function initialSchema(dialect: IndexDialect): Migration {
  // DICOM string matching is byte-exact; the "C" collation also lets PostgreSQL serve
  // prefix LIKE from a plain b-tree index. SQLite compares bytes by default (BINARY).
  const text = dialect === 'postgres' ? sql`text collate "C"` : sql`text`;
  const bigint = sql`bigint`;
  const blob = dialect === 'postgres' ? sql`bytea` : sql`blob`;

  return {
    async up(db: Kysely<unknown>): Promise<void> {
      const pk = (table: string) => db.schema.createTable(table)
        .addColumn('pk', dialect === 'postgres' ? 'bigint' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey());

      await pk('patient')
        .addColumn('patient_id', text)
        .addColumn('issuer_of_patient_id', text, (c) => c.notNull().defaultTo(''))
        .addColumn('patient_name', text)
        .addColumn('patient_name_search', text)
        .addColumn('patient_birth_date', text)
        .addColumn('patient_sex', text)
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('updated_at', text, (c) => c.notNull())
        .addUniqueConstraint('patient_identity', ['patient_id', 'issuer_of_patient_id'])
        .execute();
      await db.schema.createIndex('patient_name_idx').on('patient').column('patient_name').execute();
      await db.schema.createIndex('patient_name_search_idx').on('patient').column('patient_name_search').execute();
      await db.schema.createIndex('patient_birth_date_idx').on('patient').column('patient_birth_date').execute();

      await pk('study')
        .addColumn('patient_fk', bigint, (c) => c.notNull().references('patient.pk'))
        .addColumn('study_instance_uid', text, (c) => c.notNull().unique())
        .addColumn('study_date', text)
        .addColumn('study_time', text)
        .addColumn('accession_number', text)
        .addColumn('study_id', text)
        .addColumn('referring_physician_name', text)
        .addColumn('referring_physician_name_search', text)
        .addColumn('study_description', text)
        .addColumn('modalities_in_study', text, (c) => c.notNull().defaultTo(''))
        .addColumn('sop_classes_in_study', text, (c) => c.notNull().defaultTo(''))
        .addColumn('number_of_study_related_series', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('number_of_study_related_instances', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('updated_at', text, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('study_patient_fk_idx').on('study').column('patient_fk').execute();
      await db.schema.createIndex('study_date_time_idx').on('study').columns(['study_date', 'study_time']).execute();
      await db.schema.createIndex('study_accession_number_idx').on('study').column('accession_number').execute();
      await db.schema.createIndex('study_id_idx').on('study').column('study_id').execute();
      await db.schema.createIndex('study_referring_physician_name_idx').on('study').column('referring_physician_name').execute();
      await db.schema.createIndex('study_referring_physician_name_search_idx').on('study')
        .column('referring_physician_name_search').execute();
      await db.schema.createIndex('study_created_at_idx').on('study').column('created_at').execute();

      await pk('series')
        .addColumn('study_fk', bigint, (c) => c.notNull().references('study.pk'))
        .addColumn('series_instance_uid', text, (c) => c.notNull().unique())
        .addColumn('modality', text)
        .addColumn('series_number', 'integer')
        .addColumn('series_description', text)
        .addColumn('series_date', text)
        .addColumn('series_time', text)
        .addColumn('body_part_examined', text)
        .addColumn('laterality', text)
        .addColumn('performed_procedure_step_start_date', text)
        .addColumn('performed_procedure_step_start_time', text)
        .addColumn('station_name', text)
        .addColumn('institution_name', text)
        .addColumn('institutional_department_name', text)
        .addColumn('number_of_series_related_instances', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', text, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('series_study_fk_idx').on('series').column('study_fk').execute();
      // Serves "studies with a series of modality X" (ModalitiesInStudy matching) from the index alone.
      await db.schema.createIndex('series_modality_study_fk_idx').on('series').columns(['modality', 'study_fk']).execute();
      await db.schema.createIndex('series_date_idx').on('series').column('series_date').execute();
      await db.schema.createIndex('series_pps_start_date_idx').on('series')
        .column('performed_procedure_step_start_date').execute();

      await pk('instance')
        .addColumn('series_fk', bigint, (c) => c.notNull().references('series.pk'))
        .addColumn('sop_instance_uid', text, (c) => c.notNull().unique())
        .addColumn('sop_class_uid', text, (c) => c.notNull())
        .addColumn('instance_number', 'integer')
        .addColumn('transfer_syntax_uid', text, (c) => c.notNull())
        .addColumn('rows', 'integer')
        .addColumn('columns', 'integer')
        .addColumn('number_of_frames', 'integer')
        .addColumn('content_date', text)
        .addColumn('content_time', text)
        .addColumn('storage_key', text, (c) => c.notNull())
        .addColumn('size', bigint, (c) => c.notNull())
        .addColumn('sha256', text, (c) => c.notNull())
        .addColumn('received_at', text, (c) => c.notNull())
        .addColumn('source_ae', text)
        .addColumn('metadata', blob, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('instance_series_fk_number_idx').on('instance')
        .columns(['series_fk', 'instance_number']).execute();
      // No index on sop_class_uid or storage_key: no query path uses them, and each index is one more
      // page written per stored instance.
    },

    async down(db: Kysely<unknown>): Promise<void> {
      for (const table of ['instance', 'series', 'study', 'patient']) {
        await db.schema.dropTable(table).execute();
      }
    },
  };
}
