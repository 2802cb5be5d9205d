// Token-bucket meters: RFC 2697 srTCM and RFC 2698 trTCM.
