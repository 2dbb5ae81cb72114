-- Sample schema and rows for docker-compose.yml. The mysql image runs this
-- once, when its data volume is empty (docker compose down -v starts over).
-- It runs with the binlog on, so sluice (scan.startup.mode: earliest-offset)
-- captures these rows as inserts. The sluice user is created by
-- mysql-init-user.sh, which reads its password from SLUICE_DB_PASSWORD.

CREATE DATABASE inventory;
USE inventory;

CREATE TABLE customers (
  id         INT          NOT NULL AUTO_INCREMENT PRIMARY KEY,
  first_name VARCHAR(64)  NOT NULL,
  last_name  VARCHAR(64)  NOT NULL,
  email      VARCHAR(255) NOT NULL,
  UNIQUE KEY uk_email (email)
);

CREATE TABLE products (
  id          INT           NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name        VARCHAR(128)  NOT NULL,
  price       DECIMAL(10,2) NOT NULL,
  weight_kg   DECIMAL(8,3)  NULL,
  attributes  JSON          NULL,
  created_at  DATETIME(3)   NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at  DATETIME(3)   NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
                            ON UPDATE CURRENT_TIMESTAMP(3)
);

-- Two shards of one logical table; sluice.yaml routes both to the topic
-- inventory.orders. Their id ranges do not overlap.
CREATE TABLE order_1 (
  id          BIGINT        NOT NULL PRIMARY KEY,
  customer_id INT           NOT NULL,
  product_id  INT           NOT NULL,
  quantity    INT           NOT NULL,
  total       DECIMAL(12,2) NOT NULL,
  ordered_at  DATETIME      NOT NULL
);
CREATE TABLE order_2 LIKE order_1;

INSERT INTO customers (first_name, last_name, email) VALUES
  ('Ann',   'Lee',    'ann@example.com'),
  ('Bob',   'Martin', 'bob@example.com'),
  ('Chloe', 'Dubois', 'chloe@example.com');

INSERT INTO products (name, price, weight_kg, attributes) VALUES
  ('scooter',   129.90, 8.200, '{"color": "red", "wheels": 2}'),
  ('hammer',     14.50, 0.750, '{"head": "steel", "sizes": [12, 14, 16]}'),
  ('spare tire',  9.99, NULL,  NULL);

INSERT INTO order_1 VALUES
  (1000000001, 1, 1, 1, 129.90, '2024-06-01 10:15:00'),
  (1000000002, 2, 2, 3,  43.50, '2024-06-01 11:02:30');
INSERT INTO order_2 VALUES
  (2000000001, 3, 3, 4,  39.96, '2024-06-02 09:45:10');
