-- Seed data of the compose demo, run once by the mysql image on an empty data volume (as root). The MySQL source
-- (connectors/inventory-mysql.json) captures the database `inventory` as the user `debezium`.

CREATE DATABASE IF NOT EXISTS inventory;
USE inventory;

CREATE TABLE customers (
    id         INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    first_name VARCHAR(255) NOT NULL,
    last_name  VARCHAR(255) NOT NULL,
    email      VARCHAR(255) NOT NULL UNIQUE
);

CREATE TABLE products (
    id          INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name        VARCHAR(255) NOT NULL,
    description VARCHAR(512),
    price       DECIMAL(10, 2) NOT NULL,
    weight      DOUBLE
);

CREATE TABLE orders (
    id         INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    order_date DATE NOT NULL,
    purchaser  INT NOT NULL,
    product_id INT NOT NULL,
    quantity   INT NOT NULL,
    FOREIGN KEY (purchaser) REFERENCES customers (id),
    FOREIGN KEY (product_id) REFERENCES products (id)
);

INSERT INTO customers (first_name, last_name, email) VALUES
    ('Sally', 'Thomas', 'sally.thomas@acme.com'),
    ('George', 'Bailey', 'gbailey@foobar.com'),
    ('Edward', 'Walker', 'ed@walker.com'),
    ('Anne', 'Kretchmar', 'annek@noanswer.org');

INSERT INTO products (name, description, price, weight) VALUES
    ('scooter', 'Small 2-wheel scooter', 49.90, 3.14),
    ('car battery', '12V car battery', 89.00, 8.1),
    ('hammer', '12oz carpenter''s hammer', 12.50, 0.75),
    ('rocks', 'box of assorted rocks', 5.25, 5.3);

INSERT INTO orders (order_date, purchaser, product_id, quantity) VALUES
    ('2026-01-16', 1, 1, 1),
    ('2026-01-17', 2, 3, 2),
    ('2026-02-19', 2, 2, 1),
    ('2026-02-21', 3, 4, 4);

-- What the source needs: SELECT (snapshot), RELOAD (the snapshot's brief global read lock), SHOW DATABASES,
-- REPLICATION SLAVE (reading the binlog), REPLICATION CLIENT (the binlog position and GTID set), LOCK TABLES.
CREATE USER 'debezium'@'%' IDENTIFIED BY 'dbz';
GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT, LOCK TABLES ON *.* TO 'debezium'@'%';
