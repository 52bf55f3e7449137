from migration_check.cli import main

raise SystemExit(main())
