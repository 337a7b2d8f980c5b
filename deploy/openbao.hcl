# Persistent single-node OpenBao for docker-compose (raft storage; initialised and unsealed by
# the `vault-bootstrap` service, which keeps the unseal key in the sintra-secrets volume, mode 0600).
storage "raft" {
  path    = "/openbao/data"
  node_id = "node1"
}
listener "tcp" {
  address     = "0.0.0.0:8200"
  tls_disable = true   # compose network only; put TLS in front for anything else
}
api_addr     = "http://openbao:8200"
cluster_addr = "http://openbao:8201"
ui           = false
audit "file" "local" {
  options { file_path = "/openbao/data/audit.log" }
}
